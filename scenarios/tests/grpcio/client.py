"""A client nobody here wrote the library of: Python's grpcio against `doppel serve grpc`.

Run by scenarios/tests/grpcio.rs with the stub grpcio-tools generated from
scenarios/proto/ledger.proto on PYTHONPATH:  python3 client.py HOST:PORT
"""
import sys

import grpc
import ledger_pb2
import ledger_pb2_grpc


def value_of(key, version):
    return f"{key}@{version}:" + "x" * (version * 37 % 600)


def main(target):
    appends = histories = 0
    with grpc.insecure_channel(target) as channel:
        ledger = ledger_pb2_grpc.LedgerStub(channel)
        for round in range(12):
            key = f"py-k{round % 3}"
            version = round // 3 + 1
            record = ledger_pb2.Record(key=key, version=version, value=value_of(key, version))
            got = ledger.Append(record, timeout=10)
            assert (got.version, got.records) == (version, version), got
            # A repeat is answered as the first time.
            again = ledger.Append(record, timeout=10)
            assert (again.version, again.records) == (version, version), again
            appends += 2
            history = list(ledger.History(ledger_pb2.HistoryRequest(key=key), timeout=10))
            versions = [r.version for r in history]
            assert versions == list(range(1, version + 1)), versions
            assert all(r.value == value_of(key, r.version) for r in history)
            histories += 1
        # A version out of order is refused with FAILED_PRECONDITION, named.
        try:
            ledger.Append(ledger_pb2.Record(key="py-k0", version=9, value="x"), timeout=10)
            raise AssertionError("version 9 of py-k0 was accepted")
        except grpc.RpcError as e:
            assert e.code() == grpc.StatusCode.FAILED_PRECONDITION, e
            assert "version 9 is not next" in e.details(), e.details()
        # An unknown key's history is empty.
        assert list(ledger.History(ledger_pb2.HistoryRequest(key="none"), timeout=10)) == []
    print(f"grpcio {grpc.__version__}: {appends} appends, {histories} histories, all checked")


if __name__ == "__main__":
    main(sys.argv[1])
