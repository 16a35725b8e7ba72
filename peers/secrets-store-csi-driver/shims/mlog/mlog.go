// Package mlog stands in for monis.app/mlog v0.0.2 (see go.mod): log set-up and the two
// fatal/error helpers upstream's secrets-store-csi-driver calls, on top of klog.
package mlog

import (
	"context"
	"fmt"
	"os"

	"github.com/go-logr/logr/funcr"
	"k8s.io/klog/v2"
)

// LogFormat selects klog's output: text (klog's own) or one JSON object per line.
type LogFormat string

const (
	FormatText LogFormat = "text"
	FormatJSON LogFormat = "json"
)

// Setup returns the function that flushes buffered log lines at exit.
func Setup() func() { return klog.Flush }

// ValidateAndSetKlogLevelAndFormatGlobally checks the verbosity and installs the format.
func ValidateAndSetKlogLevelAndFormatGlobally(_ context.Context, level klog.Level, format LogFormat) error {
	if level < 0 {
		return fmt.Errorf("invalid log level %d: must be 0 or more", level)
	}
	switch format {
	case FormatText:
		return nil
	case FormatJSON:
		klog.SetLogger(funcr.NewJSON(func(obj string) { fmt.Fprintln(os.Stderr, obj) },
			funcr.Options{LogTimestamp: true, Verbosity: int(level)}))
		return nil
	default:
		return fmt.Errorf("unknown log format %q: want %q or %q", format, FormatText, FormatJSON)
	}
}

// Error logs msg with err and key/value pairs.
func Error(msg string, err error, keysAndValues ...any) {
	klog.ErrorSDepth(1, err, msg, keysAndValues...)
}

// Fatal logs err, flushes and exits with status 1.
func Fatal(err error, keysAndValues ...any) {
	klog.ErrorSDepth(1, err, "fatal error", keysAndValues...)
	klog.Flush()
	os.Exit(1)
}
