package iamkeystest

import "time"

// An Option configures a Server. Options are applied in order; the last one
// wins.
type Option interface {
	apply(*config)
}

// config holds the settings options change.
type config struct {
	clock            interface{ Now() time.Time }
	accountID        string
	latency          time.Duration
	propagation      time.Duration
	throttleFraction float64
	ratePerSecond    float64
	rateBurst        int
	reportDelay      time.Duration
	randomIDs        bool
	lastUseLag       time.Duration
	listingLag       time.Duration
	eventLog         int
	eventHook        func(Event)
	idStem           string // 11 characters after the prefix of deterministic IDs; "" is "IAMKEYSTEST" (org.go)
}

func defaultConfig() config {
	return config{
		clock:     realClock{},
		accountID: "123456789012",
	}
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithClock makes the server read time from c, for example a *Clock.
// The default is the wall clock. Times in responses are always truncated to
// whole seconds.
func WithClock(c interface{ Now() time.Time }) Option {
	return optionFunc(func(cfg *config) {
		if c != nil {
			cfg.clock = c
		}
	})
}

// WithAccountID sets the 12-digit account ID used in ARNs and in
// GetCallerIdentity. The default is "123456789012".
func WithAccountID(id string) Option {
	return optionFunc(func(cfg *config) { cfg.accountID = id })
}

// WithLatency makes every response leave d of real time after its request
// arrived, as from a remote service with a fixed response time: the server's
// own work on the request happens within d, not on top of it. The default is
// no delay. See also Server.SetLatency.
func WithLatency(d time.Duration) Option {
	return optionFunc(func(cfg *config) { cfg.latency = d })
}

// WithPropagationDelay models IAM's eventual consistency for new keys: a key
// created by CreateAccessKey or AddKey is rejected with 403
// InvalidClientTokenId until the server clock reaches its creation time plus
// d. The bootstrap admin key is usable at once. The default is 0.
func WithPropagationDelay(d time.Duration) Option {
	return optionFunc(func(cfg *config) { cfg.propagation = d })
}

// WithThrottleFraction answers that fraction of requests (0 to 1; values
// outside are taken as 0 or 1) with Throttling (400, "Rate exceeded"). The
// choice is deterministic: a fraction of 0.25 throttles the 4th, 8th, 12th
// ... request. The default is 0.
func WithThrottleFraction(f float64) Option {
	return optionFunc(func(cfg *config) { cfg.throttleFraction = min(max(f, 0), 1) })
}

// WithRateLimit applies a token bucket in real time, refilled at perSecond
// tokens a second and holding at most burst tokens; a request that finds the
// bucket empty gets Throttling (400, "Rate exceeded"). The default is no
// limit.
func WithRateLimit(perSecond float64, burst int) Option {
	return optionFunc(func(cfg *config) {
		cfg.ratePerSecond = perSecond
		cfg.rateBurst = burst
	})
}

// WithReportGenerationDelay sets how long, on the server clock, generating a
// credential report takes. With the default of 0, the first
// GenerateCredentialReport answers STARTED and later calls COMPLETE.
func WithReportGenerationDelay(d time.Duration) Option {
	return optionFunc(func(cfg *config) { cfg.reportDelay = d })
}

// WithRandomIDs makes user IDs and access key IDs random. By default they
// are deterministic (counter based, still AKIA plus 16 characters and AIDA
// plus 17), so that examples print stable output. Secret access keys are
// always random.
func WithRandomIDs() Option {
	return optionFunc(func(cfg *config) { cfg.randomIDs = true })
}

// WithLastUseLag models the delay before IAM's last-use data shows a use of
// a key: a use (a request signed with the key, or SetLastUsed) appears in
// GetAccessKeyLastUsed and in the credential report's last-used columns
// only once the server clock reaches the use time plus d, rounded up to a
// whole second. Until then they show the latest use that has become
// visible (of those, the one recorded last), or none. The key's true last
// use is in Key and Keys at once. Memory stays bounded: a key keeps at most
// one pending use per second of lag. The default is 0: every use is
// visible at once. See also Server.SetLastUseLag.
func WithLastUseLag(d time.Duration) Option {
	return optionFunc(func(cfg *config) { cfg.lastUseLag = max(d, 0) })
}

// WithListingLag models a listing that lags behind creation:
// ListAccessKeys leaves out a key until the server clock reaches its
// creation time plus d, seeded keys (AddKey) included. The key exists
// meanwhile: it counts towards the limit of two keys per user, it signs
// requests (subject to WithPropagationDelay), and GetAccessKeyLastUsed,
// UpdateAccessKey and DeleteAccessKey find it. Deletions and status changes
// show at once. The default is 0. See also Server.SetListingLag.
func WithListingLag(d time.Duration) Option {
	return optionFunc(func(cfg *config) { cfg.listingLag = max(d, 0) })
}

// WithEventLog makes the server keep the n most recent events (see Event),
// which Server.Events returns; older ones are dropped. The default, 0,
// keeps none, and then recording costs nothing unless WithEventHook is set.
func WithEventLog(n int) Option {
	return optionFunc(func(cfg *config) { cfg.eventLog = max(n, 0) })
}

// WithEventHook makes the server call f with each event (see Event) once
// it is applied, before the response to its request is written: a change
// whose answer FailNextAmbiguous then drops or turns into a 500 is
// reported too. f runs on the request's goroutine without the server's
// lock held, so it may call the server's methods and make requests to it;
// when requests run concurrently, so do calls of f, possibly out of Seq
// order. The default is no hook; a nil f sets none.
func WithEventHook(f func(Event)) Option {
	return optionFunc(func(cfg *config) { cfg.eventHook = f })
}
