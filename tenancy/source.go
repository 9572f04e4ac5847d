package tenancy

import "context"

// Source supplies the policy of the current cluster state. It is the one
// shape "the current policy" takes: the webhook, the audit and the gateway
// translator all ask a Source (in a running tenantgate, the same one).
type Source interface {
	Policy(ctx context.Context) (*Policy, error)
}

// SourceFunc adapts a function to Source.
type SourceFunc func(ctx context.Context) (*Policy, error)

// Policy calls f.
func (f SourceFunc) Policy(ctx context.Context) (*Policy, error) { return f(ctx) }

// Static is a Source that always returns p.
func Static(p *Policy) Source {
	return SourceFunc(func(context.Context) (*Policy, error) { return p, nil })
}
