// Package tcprelay relays the TCP connections a listener accepts to whatever
// a dial function connects to, passing half-closes on, and ends every
// relayed connection when closed. The local cluster's LoadBalancer
// forwarder and the node agent's in-Pod API-server address both use it.
package tcprelay
