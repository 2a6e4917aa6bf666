package rotate_test

import (
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/iamkeys/iamkeys/iamkeystest"
)

// simSDKPlans are the faults the plan injects into a store's own requests
// to the fake's JSON services (Secrets Manager, SSM): refused without
// applying (an internal error or throttling, which the NopRetryer surfaces
// at once), applied and the answer lost (a dropped connection, a 500), or
// another process acting right before or after the request.
var simSDKPlans = []string{"fail", "throttle", "drop", "500", "nest-before", "nest-after"}

// simStoreConfig is the configuration of p's own service client for a
// store: its requests go through the plan (simHTTP), with no SDK retries.
// internal is the service's code for an internal error.
func simStoreConfig(p *simProc, internal string) aws.Config {
	cfg := p.w.srv.Config()
	cfg.HTTPClient = simHTTP{p: p, base: cfg.HTTPClient, internal: internal}
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	return cfg
}

// simHTTP is a process's HTTP client for a store's service client: around
// the request the plan picks, it arms a fault of the fake for exactly that
// operation, or runs another process.
type simHTTP struct {
	p    *simProc
	base aws.HTTPClient
	// internal is the service's code for an internal error; both services
	// throttle with ThrottlingException.
	internal string
}

func (h simHTTP) Do(req *http.Request) (*http.Response, error) {
	w := h.p.w
	target := req.Header.Get("X-Amz-Target")
	op := target[strings.LastIndex(target, ".")+1:]
	kind := w.nextSDK(op)
	switch kind {
	case "fail":
		w.srv.FailNext(op, h.internal, 1)
	case "throttle":
		w.srv.FailNext(op, "ThrottlingException", 1)
	case "drop":
		w.srv.FailNextAmbiguous(op, 1, iamkeystest.DropConnection)
	case "500":
		w.srv.FailNextAmbiguous(op, 1, iamkeystest.InternalError)
	case "nest-before":
		w.nested(h.p)
	}
	resp, err := h.base.Do(req)
	if kind == "nest-after" {
		w.nested(h.p)
	}
	return resp, err
}

// nextSDK counts a store's request as a call of the step and returns the
// plan kind if it fires on it.
func (w *simWorld) nextSDK(op string) string {
	if w.depth > 0 || w.plan.n == 0 {
		return ""
	}
	w.plan.calls++
	if w.plan.calls != w.plan.n {
		return ""
	}
	w.plan.kind = simSDKPlans[w.rng.IntN(len(simSDKPlans))]
	w.plan.fired = w.plan.kind + "@" + op
	return w.plan.kind
}
