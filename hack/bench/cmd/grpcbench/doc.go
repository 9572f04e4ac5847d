// Command grpcbench measures gRPC unary calls through tenantgate's proxy
// against nginx's grpc_pass and against the backend directly, for
// hack/bench/grpc.sh. It has three roles:
//
//	grpcbench backend -listen ADDR           a grpc-go server (h2c) answering
//	                                         grpc.health.v1.Health/Check
//	grpcbench gateway -listen ADDR -backend ADDR
//	                                         gateway/proxy with one GRPCRoute
//	                                         (an Exact service match) to the
//	                                         backend over h2c, as the
//	                                         translator would emit it
//	grpcbench load -target NAME=ADDR ...     closed-loop unary calls: -conns
//	                                         HTTP/2 connections, -streams
//	                                         calls in flight on each, for
//	                                         -duration, -reps times; prints
//	                                         one JSON line per run
//	grpcbench report -baseline nginx < runs  a Markdown table of the runs
//
// The gateway role only wires gateway/proxy and gateway/routetable; it must
// not tune them, so the figures are the product's own.
package main
