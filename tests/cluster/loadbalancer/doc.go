// Package loadbalancer implements Services of type LoadBalancer for the local
// cluster, as kind's cloud provider or k3s's ServiceLB do on theirs: each such
// Service (without a spec.loadBalancerClass) gets an address from a local
// pool (spec.loadBalancerIP when it lies in the pool and is free), written to
// status.loadBalancer.ingress, and a TCP listener on that address for each of
// its ports that forwards connections round robin to the Service's ready
// endpoints, read from its EndpointSlices (so selector-less Services with
// hand-written EndpointSlices work too). Deleting the Service, or changing
// its type, closes the listeners and frees the address.
package loadbalancer
