"""Joining the chunks of a live recording into one lossless file (FLAC).

Each chunk is decoded on its own (chunks are independent audio files, possibly of different formats)
and resampled to the first chunk's rate and channel layout, so the result is one continuous recording.
"""

from __future__ import annotations

import pathlib
from collections.abc import Sequence

import av

from transcription.audio import AudioError, AudioErrorCode, AudioInfo, probe_audio


def concatenate_to_flac(chunks: Sequence[pathlib.Path], out_path: pathlib.Path) -> AudioInfo:
    if not chunks:
        raise AudioError(AudioErrorCode.EMPTY, "no chunks to join")
    first = probe_audio(chunks[0])
    layout = "stereo" if first.channels == 2 else "mono"
    rate = first.sample_rate
    resampler_format = "s16"
    with av.open(str(out_path), "w", format="flac") as output:
        stream = output.add_stream("flac", rate=rate, layout=layout)
        for path in chunks:
            resampler = av.AudioResampler(format=resampler_format, layout=layout, rate=rate)
            with path.open("rb") as handle, av.open(handle, "r") as source:
                audio = next((s for s in source.streams if s.type == "audio"), None)
                if audio is None:
                    raise AudioError(AudioErrorCode.NOT_AUDIO, "a chunk has no audio stream")
                for frame in source.decode(audio):
                    assert isinstance(frame, av.AudioFrame)
                    for converted in resampler.resample(frame):
                        converted.pts = None
                        for packet in stream.encode(converted):
                            output.mux(packet)
                for converted in resampler.resample(None):
                    converted.pts = None
                    for packet in stream.encode(converted):
                        output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    return probe_audio(out_path)
