package app

import (
	"fmt"
	"io"
	"os"

	"github.com/go-logr/logr"
	"github.com/go-logr/zapr"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// NewLogger builds the zap logger behind every logr.Logger in the process,
// writing to out (standard error when nil).
func NewLogger(level, format string, out io.Writer) (logr.Logger, error) {
	var lvl zapcore.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return logr.Discard(), fmt.Errorf("-log-level %q: use debug, info or error", level)
	}
	if out == nil {
		out = os.Stderr
	}
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	if format == "console" {
		enc = zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig())
	}
	core := zapcore.NewCore(enc, zapcore.Lock(zapcore.AddSync(out)), lvl)
	return zapr.NewLogger(zap.New(core, zap.AddCaller())), nil
}
