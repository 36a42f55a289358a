"""Joining the chunks of a live recording into one lossless file (FLAC).

Each chunk is decoded on its own (chunks are independent audio files, possibly of different formats),
through the same guarded decoding as uploads, and resampled to the first chunk's rate and channel
layout, so the result is one continuous recording.
"""

from __future__ import annotations

import pathlib
from collections.abc import Sequence

import av
import av.error

from transcription.audio import AudioError, AudioErrorCode, AudioInfo, audio_frames, probe_audio


def concatenate_to_flac(chunks: Sequence[pathlib.Path], out_path: pathlib.Path) -> AudioInfo:
    if not chunks:
        raise AudioError(AudioErrorCode.EMPTY, "no chunks to join")
    first = probe_audio(chunks[0])
    layout = "stereo" if first.channels == 2 else "mono"
    try:
        with av.open(str(out_path), "w", format="flac") as output:
            stream = output.add_stream("flac", rate=first.sample_rate, layout=layout)
            for path in chunks:
                resampler = av.AudioResampler(format="s16", layout=layout, rate=first.sample_rate)
                with audio_frames(path) as frames:
                    for frame in [*frames, None]:
                        for converted in resampler.resample(frame):
                            converted.pts = None
                            for packet in stream.encode(converted):
                                output.mux(packet)
            for packet in stream.encode(None):
                output.mux(packet)
    except (av.error.FFmpegError, ValueError) as exc:
        raise AudioError(AudioErrorCode.CORRUPT, f"chunks could not be joined ({type(exc).__name__})") from None
    return probe_audio(out_path)
