package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/audit"
)

const keysSynopsis = `keys [--user NAME] [--output table|json|csv] [flags]

Lists the user's access keys, or every user's, with each key's last use.
Without --user it makes the reads of a live audit (ListUsers, one
ListAccessKeys per user, one GetAccessKeyLastUsed per key, paced under
throttling) and lists a root access key if the account has one.`

// keyOut is one access key as keys prints it.
type keyOut struct {
	UserName    string         `json:"userName"`
	UserID      string         `json:"userId,omitempty"`
	KeyID       string         `json:"keyId"`
	Status      iamkeys.Status `json:"status,omitempty"`
	Created     string         `json:"created,omitempty"`
	Used        bool           `json:"used"`
	LastUsed    string         `json:"lastUsed,omitempty"`
	LastService string         `json:"lastService,omitempty"`
	LastRegion  string         `json:"lastRegion,omitempty"`
	// LastUseUnknown: the key's last use could not be read.
	LastUseUnknown bool `json:"lastUseUnknown,omitempty"`
}

// keysReport is what keys prints.
type keysReport struct {
	Keys       []keyOut         `json:"keys"`
	Incomplete []keysIncomplete `json:"incomplete"`
}

type keysIncomplete struct {
	Op       string `json:"op"`
	UserName string `json:"userName,omitempty"`
	KeyID    string `json:"keyId,omitempty"`
	Error    string `json:"error"`
}

func runKeys(ctx context.Context, e *env, args []string) int {
	var c common
	var user string
	var concurrency int
	fs := newFlagSet("keys", keysSynopsis, e.stderr)
	c.register(fs, outTable, outJSON, outCSV)
	fs.StringVar(&user, "user", "", "list this user's keys only (default: every user's)")
	fs.IntVar(&concurrency, "concurrency", audit.DefaultConcurrency, "requests in flight at most")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if err := c.check(); err != nil {
		return fail(e, "keys", err, exitUsage)
	}
	aopts := []audit.Option{audit.WithConcurrency(concurrency)}
	if e.clock != nil {
		aopts = append(aopts, audit.WithClock(e.clock))
	}
	if _, err := audit.New(iam.New(iam.Options{}), aopts...); err != nil {
		return fail(e, "keys", usagef("%v", trimPrefix(err)), exitUsage)
	}
	m := &meter{}
	cfg, err := c.load(ctx, m)
	if err != nil {
		return fail(e, "keys", err, exitConfig)
	}
	cfg = withIAMRegion(cfg)

	p := startProgress(e.stderr, c.showProgress(e), e.stderrIsTerminal(), m)
	var rep keysReport
	if user != "" {
		rep, err = userKeys(ctx, iam.NewFromConfig(cfg), user)
	} else {
		rep, err = allKeys(ctx, iam.NewFromConfig(cfg), aopts)
	}
	p.finish()
	if err != nil {
		return fail(e, "keys", err, exitPartial)
	}
	if err := rep.write(e, c.output); err != nil {
		return fail(e, "keys", fmt.Errorf("writing the list: %w", err), exitInternal)
	}
	if len(rep.Incomplete) > 0 {
		return exitPartial
	}
	return exitOK
}

// userKeys lists one user's keys and their last use through a Manager.
func userKeys(ctx context.Context, client *iam.Client, user string) (keysReport, error) {
	rep := keysReport{Keys: []keyOut{}, Incomplete: []keysIncomplete{}}
	m, err := iamkeys.New(client)
	if err != nil {
		return rep, err
	}
	keys, err := m.ListKeys(ctx, user)
	var bad *iamkeys.InputError
	switch {
	case errors.As(err, &bad):
		return rep, usagef("--user: %v", trimPrefix(err))
	case err != nil:
		rep.Incomplete = append(rep.Incomplete, keysIncomplete{Op: "ListKeys", UserName: user, Error: err.Error()})
		return rep, nil
	}
	for _, k := range keys {
		out := keyOut{UserName: k.UserName, KeyID: k.ID, Status: k.Status, Created: stamp(k.Created)}
		use, err := m.LastUsed(ctx, k.ID)
		if err != nil {
			out.LastUseUnknown = true
			rep.Incomplete = append(rep.Incomplete, keysIncomplete{Op: "LastUsed", UserName: user, KeyID: k.ID, Error: err.Error()})
		} else if use.Used {
			out.Used, out.LastUsed, out.LastService, out.LastRegion = true, stamp(use.At), use.Service, use.Region
		}
		rep.Keys = append(rep.Keys, out)
	}
	return rep, nil
}

// allKeys lists every user's keys with a live audit's reads.
func allKeys(ctx context.Context, client *iam.Client, aopts []audit.Option) (keysReport, error) {
	rep := keysReport{Keys: []keyOut{}, Incomplete: []keysIncomplete{}}
	a, err := audit.New(client, aopts...)
	if err != nil {
		return rep, err
	}
	ar, err := a.Run(ctx)
	if ar == nil {
		return rep, err
	}
	for _, k := range ar.Keys {
		rep.Keys = append(rep.Keys, keyOut{
			UserName: k.UserName, UserID: k.UserID, KeyID: k.Label(), Status: k.Status, Created: stamp(k.Created),
			Used: k.Used, LastUsed: stamp(k.LastUsed), LastService: k.LastService, LastRegion: k.LastRegion, LastUseUnknown: k.LastUseUnknown,
		})
	}
	for _, in := range ar.Incomplete {
		rep.Incomplete = append(rep.Incomplete, keysIncomplete{Op: in.Op, UserName: in.UserName, KeyID: in.KeyID, Error: errText(in.Err)})
	}
	return rep, nil
}

func (r keysReport) write(e *env, format string) error {
	g := &grid{header: []string{"user", "key", "status", "created", "last_used", "service", "region"}}
	for _, k := range r.Keys {
		last := k.LastUsed
		switch {
		case k.LastUseUnknown:
			last = "unknown"
		case !k.Used:
			last = "never"
		}
		g.add(k.UserName, k.KeyID, string(k.Status), k.Created, last, k.LastService, k.LastRegion)
	}
	switch format {
	case outJSON:
		return writeJSON(e.stdout, r)
	case outCSV:
		// The CSV has no room for what could not be read: standard error
		// says it, besides exit status 2.
		for _, in := range r.Incomplete {
			fmt.Fprintf(e.stderr, "iamkeys keys: incomplete: %s %s: %s\n", in.Op, strings.Trim(in.UserName+"/"+in.KeyID, "/"), in.Error)
		}
		return g.writeCSV(e.stdout)
	}
	ew := &errWriter{w: e.stdout}
	g.writeTable(ew)
	if len(r.Incomplete) > 0 {
		ig := &grid{header: []string{"INCOMPLETE", "USER", "KEY", "ERROR"}}
		for _, in := range r.Incomplete {
			ig.add(in.Op, in.UserName, in.KeyID, in.Error)
		}
		fmt.Fprintln(ew)
		ig.writeTable(ew)
	}
	return ew.err
}
