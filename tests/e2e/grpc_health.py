"""A gRPC server with the standard health service (grpc.health.v1.Health/Check) for the
gRPC probe tests, on python3-grpcio without generated code: the two tiny messages are read
and written by hand. statuses maps a service name ("" is the server as a whole) to SERVING,
NOT_SERVING...; a service not in it answers NOT_FOUND as grpc's own health server does."""
from concurrent import futures

import grpc

STATUS = {"UNKNOWN": 0, "SERVING": 1, "NOT_SERVING": 2, "SERVICE_UNKNOWN": 3}


def _service_of(req):
    """HealthCheckRequest.service (field 1, a string) from the serialized message."""
    i, service = 0, ""
    while i < len(req):
        key = req[i]
        i += 1
        if key != 0x0A:
            break
        n, shift = 0, 0
        while True:
            b = req[i]
            i += 1
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        service = req[i:i + n].decode()
        i += n
    return service


class HealthServer:
    def __init__(self, port, statuses=None):
        self.statuses = dict(statuses or {"": "SERVING"})
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        handler = grpc.method_handlers_generic_handler("grpc.health.v1.Health", {
            "Check": grpc.unary_unary_rpc_method_handler(self._check)})
        self.server.add_generic_rpc_handlers((handler,))
        self.port = self.server.add_insecure_port("127.0.0.1:%d" % port)
        self.user_agents = []

    def _check(self, req, context):
        md = dict(context.invocation_metadata())
        self.user_agents.append(md.get("user-agent", ""))
        service = _service_of(req)
        if service not in self.statuses:
            context.abort(grpc.StatusCode.NOT_FOUND, "unknown service")
        st = STATUS[self.statuses[service]]
        return b"" if st == 0 else bytes([0x08, st])

    def start(self):
        self.server.start()
        return self

    def stop(self):
        self.server.stop(0)
