// A stand-in for monis.app/mlog, which the Go module registry here refuses ("Go module
// host not permitted"). Upstream's driver uses six names from it, all in its main
// package and server start-up: this module gives those names the same meaning over klog.
module monis.app/mlog

go 1.25

require (
	github.com/go-logr/logr v1.4.3
	k8s.io/klog/v2 v2.120.1
)
