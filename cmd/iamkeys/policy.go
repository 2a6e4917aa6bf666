package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/iamkeys/iamkeys/rotate"
)

// days is a duration flag that also takes whole days, "90d", since the
// policy's durations are counted in days more often than in hours.
type days struct{ d *time.Duration }

func (v days) String() string {
	if v.d == nil || *v.d == 0 {
		return ""
	}
	if *v.d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(*v.d/(24*time.Hour))) + "d"
	}
	return v.d.String()
}

func (v days) Set(s string) error {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		i, err := strconv.Atoi(n)
		if err != nil || i <= 0 {
			return fmt.Errorf("want a positive whole number of days such as 90d, or a duration such as 36h")
		}
		*v.d = time.Duration(i) * 24 * time.Hour
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return fmt.Errorf("want a positive duration such as 36h, or days such as 90d")
	}
	*v.d = d
	return nil
}

// policyFlags are the rotation policy's flags; zero values take the
// package's defaults.
type policyFlags struct {
	policy    rotate.Policy
	consumers string
}

func (f *policyFlags) register(fs *flag.FlagSet) {
	p := &f.policy
	fs.Var(days{&p.MaxAge}, "max-age", "a key older than this is due for rotation, e.g. 90d or 2160h (default 90d)")
	fs.StringVar(&f.consumers, "consumers", "read-once", "how consumers read the store: read-once (read at start and kept) or read-every-use")
	fs.Var(days{&p.Quiet}, "quiet", "read-once: how long the old key must go unused before it is deactivated (default 24h; must exceed 4h, IAM's last-use lag)")
	fs.Var(days{&p.DeleteAfter}, "delete-after", "how long the old key stays inactive before it is deleted (default 7d)")
	fs.BoolVar(&p.AllowInactive, "allow-inactive", false, "rotate a user whose only key is inactive (the new key is active)")
	fs.BoolVar(&p.DeleteInactive, "delete-inactive", false, "delete an inactive key in the user's other slot to make room")
}

// check fills in the consumers; rotate.New validates the rest.
func (f *policyFlags) check() error {
	switch f.consumers {
	case "read-once":
		f.policy.Consumers = rotate.ReadOnce
	case "read-every-use":
		f.policy.Consumers = rotate.ReadEveryUse
	default:
		return usagef("--consumers %q: must be read-once or read-every-use", f.consumers)
	}
	return nil
}
