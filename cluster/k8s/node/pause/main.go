// Command pause is the pod sandbox's process for the k8s target's node: it holds the
// pod's namespaces open, reaps the children re-parented to it (it is PID 1 of a pod with
// a shared process namespace) and exits 0 on SIGTERM or SIGINT. Built static from this
// module only (no dependencies), it is the pause image's single file.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-v" {
		fmt.Println("pause (secrets-store-csi-ts)")
		return
	}
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "pause: warning: not PID 1, children of other processes are not reaped here")
	}
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			fmt.Fprintf(os.Stderr, "pause: shutting down on %v\n", sig)
			os.Exit(0)
		}
		reap()
	}
}

// reap waits for every child that has exited, without blocking on the ones still running.
func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
