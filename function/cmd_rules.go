package main

import (
	"context"
	"fmt"
	"io"
)

func cmdTest(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "test: not yet wired")
	return exitFailed
}

func cmdBacktest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "backtest: not yet wired")
	return exitFailed
}
