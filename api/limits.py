"""Depth, alias and cost limits, checked before execution in one walk that visits each fragment once.

Why not strawberry's QueryDepthLimiter and MaxAliasesLimiter: they walk a fragment again at every
spread, so fragments that each spread the next one twice (30-40 of them, ~1 KB) cost 2^n steps of CPU
before any resolver runs. Here each fragment is measured once per document and its measure reused
(depth, aliases and cost all compose: a spread adds the fragment's numbers, times the multiplier above).

Same numbers as the strawberry limiters: depth counts field nesting below the root fields (the root
fields are level 0, introspection subtrees are not counted), aliases are counted over the whole
document with each spread counted again. Cost is ours (like Saleor's): every field costs 1, and what
is below a field that pages with `first` costs `first` times over (the page size as the server clamps
it; the largest page when `first` is a variable, the default page when it is left out).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    TypeInfo,
    ValidationContext,
    ValidationRule,
    VariableNode,
    get_named_type,
)
from graphql.language import DocumentNode, Node

QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"


@dataclass(frozen=True, slots=True)
class QueryLimits:
    max_depth: int
    max_aliases: int
    max_cost: int
    default_page_size: int
    max_page_size: int


@dataclass(frozen=True, slots=True)
class Measure:
    """What a selection set asks for: its deepest nesting (and the field there), aliases, cost."""

    depth: int = 0
    deepest: FieldNode | None = None
    aliases: int = 0
    cost: int = 0

    def plus(self, other: Measure) -> Measure:
        deeper = other if other.depth > self.depth or self.deepest is None else self
        return Measure(deeper.depth, deeper.deepest, self.aliases + other.aliases, self.cost + other.cost)


_NOTHING = Measure()


class _Measurer:
    """Measures one document; fragment measures are memoized by name (a cycle measures as nothing:
    NoFragmentCyclesRule reports it)."""

    def __init__(self, document: DocumentNode, schema: GraphQLSchema, limits: QueryLimits) -> None:
        self.schema = schema
        self.limits = limits
        self.fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        self.measured: dict[str, Measure | None] = {}  # None: being measured

    def operation(self, node: OperationDefinitionNode) -> Measure:
        return self.selection_set(node.selection_set, self.schema.get_root_type(node.operation))

    def selection_set(self, node: SelectionSetNode, parent: GraphQLNamedType | None) -> Measure:
        total = _NOTHING
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                total = total.plus(self.field(selection, parent))
            elif isinstance(selection, FragmentSpreadNode):
                total = total.plus(self.fragment(selection.name.value))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total = total.plus(self.selection_set(selection.selection_set, inner))
        return total

    def fragment(self, name: str) -> Measure:
        if name in self.measured:
            return self.measured[name] or _NOTHING
        definition = self.fragments.get(name)
        if definition is None:
            return _NOTHING  # KnownFragmentNamesRule reports it
        self.measured[name] = None
        measure = self.selection_set(
            definition.selection_set, self.schema.get_type(definition.type_condition.name.value)
        )
        self.measured[name] = measure
        return measure

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> Measure:
        alias = 1 if node.alias else 0
        if node.selection_set is None:
            return Measure(0, node, alias, 1)
        definition = None
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            definition = parent.fields.get(node.name.value)
        below = self.selection_set(node.selection_set, get_named_type(definition.type) if definition else None)
        depth, deepest = (0, node) if node.name.value.startswith("__") else (below.depth + 1, below.deepest)
        return Measure(depth, deepest, alias + below.aliases, 1 + self.page_size(node, definition) * below.cost)

    def page_size(self, node: FieldNode, definition: GraphQLField | None) -> int:
        """How many times over the selection below this field runs: the page it asks for, else 1."""
        if definition is None or "first" not in definition.args:
            return 1
        limits = self.limits
        given = next((argument.value for argument in node.arguments or () if argument.name.value == "first"), None)
        if given is None:
            default = definition.args["first"].default_value
            size = default if isinstance(default, int) else limits.default_page_size
        elif isinstance(given, IntValueNode):
            size = int(given.value)
        elif isinstance(given, NullValueNode):
            size = limits.default_page_size
        elif isinstance(given, VariableNode):
            size = limits.max_page_size  # unknown until execution: assume the largest page
        else:
            size = 1  # not an Int: ArgumentsOfCorrectTypeRule reports it
        return min(max(size, 0), limits.max_page_size)


class QueryLimitsRule(ValidationRule):
    """Refuses an operation that nests too deeply or costs too much, and a document with too many
    aliases, each with its own `extensions.code`. Subclass per schema with `limits` set (`limits_rule`)."""

    limits: ClassVar[QueryLimits]

    def enter_document(self, node: DocumentNode, *_args: Any) -> Any:
        limits = self.limits
        measurer = _Measurer(node, self.context.schema, limits)
        aliased: list[Node] = []
        aliases = 0
        for definition in node.definitions:
            if not isinstance(definition, OperationDefinitionNode):
                continue
            measure = measurer.operation(definition)
            name = definition.name.value if definition.name else "anonymous"
            if measure.depth > limits.max_depth:
                self.report_error(
                    GraphQLError(
                        f"'{name}' exceeds maximum operation depth of {limits.max_depth}",
                        measure.deepest or definition,
                        extensions={"code": QUERY_TOO_DEEP},
                    )
                )
            if measure.cost > limits.max_cost:
                self.report_error(
                    GraphQLError(
                        f"'{name}' costs {measure.cost}, more than the maximum of {limits.max_cost}: "
                        "ask for fewer fields or smaller pages (`first`)",
                        definition,
                        extensions={"code": QUERY_TOO_COSTLY},
                    )
                )
            if measure.aliases:
                aliased.append(definition)
                aliases += measure.aliases
        if aliases > limits.max_aliases:
            self.report_error(
                GraphQLError(
                    f"{aliases} aliases found. Allowed: {limits.max_aliases}",
                    aliased,
                    extensions={"code": TOO_MANY_ALIASES},
                )
            )
        return False  # nothing more to visit: the measure is done


def limits_rule(limits: QueryLimits) -> type[QueryLimitsRule]:
    return type("QueryLimitsRule", (QueryLimitsRule,), {"limits": limits})


def limit_errors(rule: type[QueryLimitsRule], schema: GraphQLSchema, document: DocumentNode) -> list[GraphQLError]:
    """The rule on its own, before graphql-core's validation: the rule needs no walk of its own (it measures
    at the document node), and the full validation of a fan-out costs ~10x the measure, for a refusal."""
    errors: list[GraphQLError] = []
    try:
        rule(ValidationContext(schema, document, TypeInfo(schema), errors.append)).enter_document(document)
    except RecursionError:  # the parser's nesting limit comes first; this is only a backstop
        return [GraphQLError("The document nests too deeply.", extensions={"code": QUERY_TOO_DEEP})]
    return errors
