import socket

import run_tests


def test_a_node_gets_two_consecutive_free_ports_below_the_ephemeral_range():
    for _ in range(20):
        port = run_tests.free_port_pair()
        assert 20000 <= port < 32000
        for candidate in (port, port + 1):
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", candidate))


def test_a_port_whose_neighbour_is_taken_or_already_given_is_not_chosen():
    first = run_tests.free_port_pair()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", first + 1))
        busy.listen()
        for _ in range(20):
            assert run_tests.free_port_pair(taken={first}) != first
