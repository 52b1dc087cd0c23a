// Command peer is the Go/errgroup peer for the structured-concurrency benchmarks.
//
// Usage: peer WORKLOAD N
//
//	w1 N  fan-out: one errgroup starts N trivial goroutines, then g.Wait().
//	w2 D  tree: binary tree of depth D, each inner node waits for its 2 children.
//	w3 D  cancel: binary tree of depth D blocked on ctx.Done(); time cancel()->Wait.
//
// Prints exactly one line: "seconds <float> rss_kb <int>".
package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

func die(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "peer: "+format+"\n", args...)
	fmt.Fprintln(os.Stderr, "usage: peer {w1 N | w2 DEPTH | w3 DEPTH}")
	os.Exit(2)
}

// peakRSSKB returns VmHWM from /proc/self/status in kB.
func peakRSSKB() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		die("cannot open /proc/self/status: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "VmHWM:") {
			fields := strings.Fields(line)
			if len(fields) >= 2 {
				if v, err := strconv.ParseInt(fields[1], 10, 64); err == nil {
					return v
				}
			}
		}
	}
	die("VmHWM not found in /proc/self/status")
	return 0
}

// w1: fan-out of n trivial goroutines in one errgroup.
func w1(n int) time.Duration {
	start := time.Now()
	var g errgroup.Group
	for i := 0; i < n; i++ {
		g.Go(func() error { return nil })
	}
	if err := g.Wait(); err != nil {
		die("w1: %v", err)
	}
	return time.Since(start)
}

// tree: a node at depth < max starts 2 children in its own errgroup and waits.
func tree(depth, max int) error {
	if depth >= max {
		return nil
	}
	var g errgroup.Group
	for i := 0; i < 2; i++ {
		g.Go(func() error { return tree(depth+1, max) })
	}
	return g.Wait()
}

func w2(d int) time.Duration {
	start := time.Now()
	if err := tree(0, d); err != nil {
		die("w2: %v", err)
	}
	return time.Since(start)
}

// cancelNode: inner nodes start 2 children in an errgroup.WithContext group,
// report "up", block on ctx.Done(), then g.Wait(). Leaves report and block.
func cancelNode(ctx context.Context, depth, max int, up *sync.WaitGroup) error {
	if depth >= max {
		up.Done()
		<-ctx.Done()
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	for i := 0; i < 2; i++ {
		g.Go(func() error { return cancelNode(gctx, depth+1, max, up) })
	}
	up.Done()
	<-ctx.Done()
	return g.Wait()
}

func w3(d int) time.Duration {
	nodes := (1 << uint(d+1)) - 1
	var up sync.WaitGroup
	up.Add(nodes)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return cancelNode(gctx, 0, d, &up) })
	up.Wait() // all nodes (including the root) are running and blocked
	start := time.Now()
	cancel()
	if err := g.Wait(); err != nil {
		die("w3: %v", err)
	}
	return time.Since(start)
}

func main() {
	if len(os.Args) != 3 {
		die("expected 2 arguments, got %d", len(os.Args)-1)
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil || n < 0 {
		die("bad size %q", os.Args[2])
	}
	var elapsed time.Duration
	switch os.Args[1] {
	case "w1":
		elapsed = w1(n)
	case "w2", "w3":
		if n > 30 {
			die("depth %d too large (max 30)", n)
		}
		if os.Args[1] == "w2" {
			elapsed = w2(n)
		} else {
			elapsed = w3(n)
		}
	default:
		die("unknown workload %q", os.Args[1])
	}
	fmt.Printf("seconds %.9f rss_kb %d\n", elapsed.Seconds(), peakRSSKB())
}
