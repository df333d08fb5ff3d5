"""Graph work for workflows, done with networkx: DAG check with the cycle named, order, layers for drawing."""

import networkx as nx


def build_graph(step_names, edges):
    """A DiGraph of step names; ``edges`` are (source, target) pairs."""
    graph = nx.DiGraph()
    graph.add_nodes_from(step_names)
    graph.add_edges_from(edges)
    return graph


def find_cycle(graph):
    """The first cycle as a list of step names ending where it started, or None for a DAG."""
    try:
        cycle_edges = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return None
    names = [source for source, _target in cycle_edges]
    return [*names, names[0]]


def describe_cycle(cycle):
    """'a → b → a'."""
    return " → ".join(cycle)


def topological_order(graph):
    """Step names in an order where every step comes after its parents (ties by name)."""
    return list(nx.lexicographical_topological_sort(graph))


def layers(graph):
    """Lists of step names, one per generation, for drawing the graph left to right."""
    return [sorted(generation) for generation in nx.topological_generations(graph)]


def definition_graph(definition):
    """The DiGraph of a workflow definition snapshot (``{"steps": {...}, "edges": [...]}``)."""
    return build_graph(definition["steps"].keys(), [(edge["source"], edge["target"]) for edge in definition["edges"]])


def with_descendants(graph, names):
    """``names`` and every step downstream of any of them."""
    found = set(names)
    for name in names:
        found |= nx.descendants(graph, name)
    return found
