package iamkeystest

import (
	"context"
	"fmt"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// Region is the region the server's clients are configured for.
const Region = "us-east-1"

// adminName is the bootstrap admin user's name.
const adminName = "admin"

// Server is an in-memory IAM endpoint listening on a loopback address.
// All its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL of the endpoint, of the form http://ipaddr:port
	// with no trailing slash.
	URL string

	cfg    config
	ts     *httptest.Server
	admin  *accessKey
	origin time.Time  // account creation time, for the credential report root row
	signer *v4.Signer // reused, so its signing-key cache serves every request

	mu       sync.Mutex // guards everything below
	users    map[string]*user
	keys     map[string]*accessKey
	rootKeys []*accessKey
	keySeq   int
	userSeq  int
	report   reportState
	calls    map[string]int
	faults   map[string][]fault
	latency  time.Duration
	throttle throttleState

	ordered userIndex // s.users in listing order (userindex.go)

	lastUseLag time.Duration
	listingLag time.Duration
	events     eventLog
	ssm        ssmState
	secrets    secretsState // Secrets Manager (secretsmanager_state.go)

	deps accountDeps // groups, virtual MFA devices, dependent IDs (dependents_state.go)

	acct accountState // roles, sessions and the organization (session.go)
}

// NewServer starts a Server on 127.0.0.1 with a free port. It panics if it
// cannot listen, as httptest.NewServer does. Call Close when done.
func NewServer(opts ...Option) *Server {
	s, err := NewServerOn("127.0.0.1:0", opts...)
	if err != nil {
		panic(fmt.Sprintf("iamkeystest: failed to listen on a port: %v", err))
	}
	return s
}

// NewServerOn starts a Server listening on addr, for example
// "127.0.0.1:4566". It is meant for the standalone command.
func NewServerOn(addr string, opts ...Option) (*Server, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := newServer(opts...)
	s.ts = &httptest.Server{Listener: l, Config: &http.Server{Handler: s}}
	s.ts.Start()
	s.URL = s.ts.URL
	return s, nil
}

// newServer builds the state and the bootstrap admin user, without listening.
func newServer(opts ...Option) *Server {
	cfg := defaultConfig()
	for _, o := range opts {
		o.apply(&cfg)
	}
	s := &Server{
		signer:  v4.NewSigner(),
		cfg:     cfg,
		users:   map[string]*user{},
		keys:    map[string]*accessKey{},
		calls:   map[string]int{},
		faults:  map[string][]fault{},
		latency: cfg.latency,

		lastUseLag: cfg.lastUseLag,
		listingLag: cfg.listingLag,
		ssm:        newSSMState(opts),
		secrets:    newSecretsState(opts),
	}
	s.throttle.tokens = float64(max(cfg.rateBurst, 1))
	s.origin = s.now()
	u, _ := s.createUser(adminName, "/", nil)
	s.admin, _ = s.createKey(u, statusActive, s.origin)
	s.admin.usableFrom = s.origin // the bootstrap key has no propagation delay
	return s
}

// Close shuts the server down and blocks until all outstanding requests on
// it have completed. For an account of an Org it does nothing: close the Org.
func (s *Server) Close() {
	if s.ts != nil {
		s.ts.Close()
	}
}

// AccountID returns the account ID used in ARNs.
func (s *Server) AccountID() string {
	return s.cfg.accountID
}

// AdminUserName returns the bootstrap admin user's name, "admin".
func (s *Server) AdminUserName() string {
	return adminName
}

// AdminCredentials returns the static credentials of the bootstrap admin
// user's access key.
func (s *Server) AdminCredentials() aws.Credentials {
	return aws.Credentials{
		AccessKeyID:     s.admin.id,
		SecretAccessKey: s.admin.secret,
		Source:          "iamkeystest",
	}
}

// Config returns an aws.Config aimed at the server (BaseEndpoint, Region
// us-east-1) and signed as the bootstrap admin user, for callers who build
// their own IAM or STS clients.
func (s *Server) Config() aws.Config {
	c := s.AdminCredentials()
	return s.ConfigFor(c.AccessKeyID, c.SecretAccessKey)
}

// ConfigFor is like Config but signs requests with the given access key.
func (s *Server) ConfigFor(accessKeyID, secret string) aws.Config {
	creds := aws.Credentials{AccessKeyID: accessKeyID, SecretAccessKey: secret, Source: "iamkeystest"}
	return aws.Config{
		Region:       Region,
		BaseEndpoint: aws.String(s.URL),
		// The SDK keeps 10 idle connections per host; a concurrent client of
		// a local server would keep opening new ones beyond that.
		HTTPClient: awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConnsPerHost = maxIdleConnsPerHost
		}),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return creds, nil
		}),
	}
}

// Client returns an IAM client aimed at the server and signed as the
// bootstrap admin user, with the SDK's normal retryer. optFns are applied
// last, for example to set o.Retryer = aws.NopRetryer{}.
func (s *Server) Client(optFns ...func(*iam.Options)) *iam.Client {
	return iam.NewFromConfig(s.Config(), optFns...)
}

// maxIdleConnsPerHost is the idle connection pool of the clients Config and
// Client build.
const maxIdleConnsPerHost = 64

// SetLatency changes the response time of later requests (see WithLatency).
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}
