package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progressEvery is how often the progress line is redrawn.
const progressEvery = time.Second

// A progress line on standard error: accounts and users done, the request
// rate and the throttling seen. On a terminal it redraws one line in place;
// forced on elsewhere (--progress) it prints a line each time. Time here
// is the wall clock, for people: nothing is decided on it.
type progress struct {
	w     io.Writer
	m     *meter
	term  bool
	start time.Time
	stop  chan struct{}
	done  sync.WaitGroup
}

// startProgress starts the line if on; the returned progress is never nil.
func startProgress(w io.Writer, on, term bool, m *meter) *progress {
	p := &progress{w: w, m: m, term: term, start: time.Now(), stop: make(chan struct{})}
	if !on {
		p.w = nil
		return p
	}
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				p.print(false)
			case <-p.stop:
				return
			}
		}
	}()
	return p
}

// finish stops the line and prints the final count.
func (p *progress) finish() {
	if p.w == nil {
		return
	}
	close(p.stop)
	p.done.Wait()
	p.print(true)
}

func (p *progress) print(final bool) {
	m := p.m
	var parts []string
	if n := m.accounts.Load(); n > 0 {
		parts = append(parts, fmt.Sprintf("accounts %d/%d", m.accountsDone.Load(), n))
	}
	if n := m.jobUsers.Load(); n > 0 {
		parts = append(parts, fmt.Sprintf("users %d", n))
	} else if n := m.users.Load(); n > 0 {
		parts = append(parts, fmt.Sprintf("users %d/%d", min(m.keyLists.Load(), n), n))
	}
	req := m.requests.Load()
	rate := 0.0
	if el := time.Since(p.start).Seconds(); el > 0 {
		rate = float64(req) / el
	}
	parts = append(parts, fmt.Sprintf("requests %d (%.0f/s)", req, rate), fmt.Sprintf("throttled %d", m.throttled.Load()))
	line := "iamkeys: " + strings.Join(parts, ", ")
	if final {
		line += ", done"
	}
	switch {
	case p.term && final:
		fmt.Fprintf(p.w, "\r%s\x1b[K\n", line)
	case p.term:
		fmt.Fprintf(p.w, "\r%s\x1b[K", line)
	default:
		fmt.Fprintln(p.w, line)
	}
}
