package webhook

import (
	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// requestLogger is controller-runtime's admission request logger with the
// same values, added only when a message is written. The default encodes
// them (a copy of the zap core) on every admission, a tenth of the
// webhook's garbage, and at the default verbosity nothing is written for
// an admission that goes well.
func requestLogger(gvk schema.GroupVersionKind) func(logr.Logger, *admission.Request) logr.Logger {
	return func(base logr.Logger, req *admission.Request) logr.Logger {
		if base.GetSink() == nil {
			return base
		}
		return logr.New(&lazySink{base: base.GetSink(), values: func() []any {
			kv := []any{"webhookGroup", gvk.Group, "webhookKind", gvk.Kind}
			if req != nil {
				kv = append(kv, gvk.Kind, klog.KRef(req.Namespace, req.Name),
					"namespace", req.Namespace, "name", req.Name,
					"resource", req.Resource, "user", req.UserInfo.Username,
					"requestID", req.UID)
			}
			return kv
		}})
	}
}

// lazySink is base with values that are computed and added when a message
// is written.
type lazySink struct {
	base   logr.LogSink
	values func() []any
}

// Init does nothing: base was initialized by its own Logger; the frame
// this sink adds is skipped where it writes.
func (l *lazySink) Init(logr.RuntimeInfo) {}

func (l *lazySink) Enabled(level int) bool { return l.base.Enabled(level) }

func (l *lazySink) Info(level int, msg string, kv ...any) { l.sink().Info(level, msg, kv...) }

func (l *lazySink) Error(err error, msg string, kv ...any) { l.sink().Error(err, msg, kv...) }

func (l *lazySink) WithValues(kv ...any) logr.LogSink {
	return &lazySink{base: l.base, values: func() []any { return append(l.values(), kv...) }}
}

func (l *lazySink) WithName(name string) logr.LogSink {
	return &lazySink{base: l.base.WithName(name), values: l.values}
}

// sink is base with the values, writing its caller as the caller of this
// sink's method.
func (l *lazySink) sink() logr.LogSink {
	s := l.base.WithValues(l.values()...)
	if cd, ok := s.(logr.CallDepthLogSink); ok {
		s = cd.WithCallDepth(1)
	}
	return s
}
