#!/usr/bin/env python3
"""cri.py STUBS SOCKET Service/Method — one CRI call, what a kubelet sends: the request as JSON on stdin (field
names as in api.proto), the response as JSON on stdout. A gRPC error goes to stderr as "CODE: details", exit 1.

STUBS is the directory holding api_pb2.py and api_pb2_grpc.py, generated from the CRI api.proto (see Makefile's
clients13 target); SOCKET is containerd's gRPC socket.
"""
import json
import sys


def main():
    if len(sys.argv) != 4 or "/" not in sys.argv[3]:
        sys.stderr.write(__doc__)
        return 2
    stubs, socket, call = sys.argv[1:]
    sys.path.insert(0, stubs)
    import grpc
    from google.protobuf import json_format
    import api_pb2
    import api_pb2_grpc

    service, method = call.split("/", 1)
    stub = getattr(api_pb2_grpc, service + "Stub")(grpc.insecure_channel("unix://" + socket))
    request_type = getattr(api_pb2, method + "Request")
    request = json_format.Parse(sys.stdin.read() or "{}", request_type())
    try:
        response = getattr(stub, method)(request, timeout=60)
    except grpc.RpcError as error:
        sys.stderr.write("%s: %s\n" % (error.code().name, error.details()))
        return 1
    try:  # protobuf >= 5.26 renamed the option
        text = json_format.MessageToJson(response, preserving_proto_field_name=True,
                                         always_print_fields_with_no_presence=True)
    except TypeError:
        text = json_format.MessageToJson(response, preserving_proto_field_name=True,
                                         including_default_value_fields=True)
    sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
