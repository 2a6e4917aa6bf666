package rotate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/internal/iammodel"
)

// DefaultJobConcurrency is how many users a [Job] works on at once unless
// Job.Concurrency says otherwise.
const DefaultJobConcurrency = 4

// maxJobConcurrency bounds Job.Concurrency: IAM throttles an account's
// writes long before more workers could help.
const maxJobConcurrency = 64

// A Job is one pass of a [Rotator] over a set of users, such as a nightly
// run: [Rotator.Run] reconciles every user it selects under the Rotator's
// Policy. A user is selected when every criterion that is set holds:
//
//   - Users, or else every user ListUsers returns under PathPrefix;
//   - PathPrefix;
//   - Select, on the name alone, before any request about the user;
//   - Match, on the user as GetUser returns it, tags included.
//
// A user left out by Select costs no request; one left out by Match costs
// one GetUser and nothing else: no StoreFor, no store call, no write.
type Job struct {
	// PathPrefix selects users whose IAM path begins with it, such as
	// "/service/". Empty means "/", every user. Without Users it is passed
	// to ListUsers; with Users it is checked on each named user's path.
	PathPrefix string
	// Users names the users to work on instead of listing them. Names are
	// matched case-insensitively, as IAM does; a name given twice is worked
	// on once.
	Users []string
	// Select, if set, is asked about each user name before anything is
	// read about the user; false leaves the user out.
	Select func(name string) bool
	// Match, if set, is asked about each user after one GetUser, so that it
	// can look at the user's tags, path and ID; false leaves the user out.
	// It costs that one request per user Select lets through.
	Match func(user iamkeys.User) bool
	// StoreFor returns the store of a user's key. It is called only for a
	// selected user, once per pass, from several goroutines at once. An
	// error is that user's result; the others go on. Required.
	StoreFor func(ctx context.Context, user string) (Store, error)
	// Concurrency is how many users are worked on at once, 1 to 64; 0
	// means [DefaultJobConcurrency].
	Concurrency int
	// DryRun reports where each user's rotation stands and its next step
	// ([Rotator.Inspect]), writing nothing to IAM or to any store.
	DryRun bool
}

// A Result is what a pass did for one user.
type Result struct {
	User string
	// Status says what the call did (Status.Did), where the rotation
	// stands and what it waits for. After an error it holds what was known
	// when the error happened.
	Status Status
	// Err is the error of Reconcile (or Inspect in a dry run), or of the
	// job's own reads for the user (StoreFor, GetUser for Match); nil when
	// the call succeeded.
	Err error
}

// A Report is the outcome of one pass of a [Job].
type Report struct {
	// Results has one entry per selected user, sorted by name.
	Results []Result
	// Phases counts the selected users by the phase they were left in;
	// a user whose phase is not known (an error before IAM was read) is
	// counted only in Errors.
	Phases map[Phase]int
	// Errors counts the results with an error.
	Errors int
	// Excluded counts the users listed or named but left out by PathPrefix,
	// Select or Match.
	Excluded int
	// DryRun is Job.DryRun: nothing was written.
	DryRun bool
}

// InFlight returns how many of the results have a rotation under way (see
// [Status.InFlight]).
func (r Report) InFlight() int {
	n := 0
	for _, res := range r.Results {
		if res.Status.InFlight() {
			n++
		}
	}
	return n
}

// Run does one pass of job: it selects users as [Job] describes and, with
// job.Concurrency workers, calls [Rotator.Reconcile] for each (or
// [Rotator.Inspect] with job.DryRun), with the store job.StoreFor returns.
//
// An error for one user is that user's Result.Err and never stops the
// others. Run returns an error only for an invalid job, before any
// request (wrapping iamkeys.ErrInvalidInput), or when listing the users
// fails or ctx is done; then the report holds the users worked on before.
func (r *Rotator) Run(ctx context.Context, job Job) (Report, error) {
	job, err := job.checked()
	if err != nil {
		return Report{DryRun: job.DryRun}, &iamkeys.Error{Op: "rotate.Run", Err: err}
	}

	type outcome struct {
		res      Result
		selected bool
	}
	names := make(chan string)
	outcomes := make(chan outcome)
	var workers sync.WaitGroup
	for range job.Concurrency {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for name := range names {
				res, selected := r.runOne(ctx, job, name)
				outcomes <- outcome{res, selected}
			}
		}()
	}

	rep := Report{Phases: map[Phase]int{}, DryRun: job.DryRun}
	matchedOut := 0
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for o := range outcomes {
			if !o.selected {
				matchedOut++
				continue
			}
			rep.Results = append(rep.Results, o.res)
		}
	}()

	selectedOut, listErr := r.feed(ctx, job, names)
	close(names)
	workers.Wait()
	close(outcomes)
	<-collected
	rep.Excluded = selectedOut + matchedOut

	slices.SortFunc(rep.Results, func(a, b Result) int {
		return strings.Compare(strings.ToLower(a.User), strings.ToLower(b.User))
	})
	for _, res := range rep.Results {
		if res.Err != nil {
			rep.Errors++
		}
		if res.Status.Phase != "" {
			rep.Phases[res.Status.Phase]++
		}
	}
	return rep, listErr
}

// feed sends the names of the users to names, leaving out (and counting)
// those Select refuses, until the listing ends, fails or ctx is done.
func (r *Rotator) feed(ctx context.Context, job Job, names chan<- string) (excluded int, err error) {
	send := func(name string) error {
		select {
		case names <- name:
			return nil
		case <-ctx.Done():
			return &iamkeys.Error{Op: "rotate.Run", Err: ctx.Err()}
		}
	}
	if len(job.Users) > 0 {
		for _, name := range job.Users {
			if err := send(name); err != nil {
				return excluded, err
			}
		}
		return excluded, nil
	}
	pages := iam.NewListUsersPaginator(r.client, &iam.ListUsersInput{PathPrefix: aws.String(job.PathPrefix)},
		func(o *iam.ListUsersPaginatorOptions) { o.StopOnDuplicateToken = true })
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx, r.optFns...)
		if err != nil {
			return excluded, &iamkeys.Error{Op: "rotate.Run", Err: fmt.Errorf("listing users under %s: %w", job.PathPrefix, err)}
		}
		for _, u := range out.Users {
			if err := send(aws.ToString(u.UserName)); err != nil {
				return excluded, err
			}
		}
	}
	return excluded, nil
}

// runOne works on one user; selected is false for a user that Match or the
// path leaves out.
func (r *Rotator) runOne(ctx context.Context, job Job, name string) (res Result, selected bool) {
	res = Result{User: name, Status: Status{User: name}}
	fail := func(err error) (Result, bool) {
		if _, ok := err.(*iamkeys.Error); !ok {
			err = &iamkeys.Error{Op: "rotate.Run", UserName: name, Err: err}
		}
		res.Err = err
		return res, true
	}
	defer func() {
		// A panic in a caller's function (StoreFor, Match, a store) must
		// not take the other users down. Its value is not shown: it may
		// hold a secret.
		if p := recover(); p != nil {
			res, selected = fail(errors.New("panic (value not shown)"))
		}
	}()
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	if job.Select != nil && !job.Select(name) {
		return Result{}, false
	}
	// IAM lists only paths under the prefix; named users must be checked.
	checkPath := len(job.Users) > 0 && job.PathPrefix != "/"
	if job.Match != nil || checkPath {
		out, err := r.client.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)}, r.optFns...)
		if err != nil {
			return fail(err)
		}
		u := userFrom(out)
		if (checkPath && !strings.HasPrefix(u.Path, job.PathPrefix)) || (job.Match != nil && !job.Match(u)) {
			return Result{}, false
		}
	}
	store, err := job.StoreFor(ctx, name)
	switch {
	case err != nil:
		return fail(fmt.Errorf("store: %w", err))
	case store == nil:
		return fail(errors.New("store: StoreFor returned none"))
	}
	if job.DryRun {
		res.Status, err = r.Inspect(ctx, name, store)
	} else {
		res.Status, err = r.Reconcile(ctx, name, store)
	}
	if res.Status.User == "" {
		res.Status.User = name
	}
	if err != nil {
		return fail(err)
	}
	return res, true
}

// checked validates the job and fills in its defaults.
// Validate reports, without a request, the error Run would return for the
// job's own fields (a nil StoreFor, a concurrency, path prefix or user name
// out of IAM's bounds): an error wrapping iamkeys.ErrInvalidInput, or nil.
// A program that runs one job in many accounts checks it once up front.
func (j Job) Validate() error {
	_, err := j.checked()
	return err
}

func (j Job) checked() (Job, error) {
	switch {
	case j.StoreFor == nil:
		return j, invalid("job store", "StoreFor must not be nil")
	case j.Concurrency < 0 || j.Concurrency > maxJobConcurrency:
		return j, invalid("job concurrency", fmt.Sprintf("must be 1 to %d (0 for %d), got %d", maxJobConcurrency, DefaultJobConcurrency, j.Concurrency))
	case len(j.PathPrefix) > 512 || (j.PathPrefix != "" && !iammodel.PathPrefix.MatchString(j.PathPrefix)):
		return j, invalid("job path prefix", fmt.Sprintf("%q must begin with / and be at most 512 printable ASCII characters", j.PathPrefix))
	}
	if j.Concurrency == 0 {
		j.Concurrency = DefaultJobConcurrency
	}
	if j.PathPrefix == "" {
		j.PathPrefix = "/"
	}
	if len(j.Users) > 0 {
		seen := make(map[string]bool, len(j.Users))
		users := make([]string, 0, len(j.Users))
		for _, name := range j.Users {
			if n := len(name); n == 0 || n > iammodel.MaxUserName || !iammodel.Name.MatchString(name) {
				return j, invalid("job user name", fmt.Sprintf("%q must be 1 to %d letters, digits and +=,.@_-", name, iammodel.MaxUserName))
			}
			if k := strings.ToLower(name); !seen[k] {
				seen[k] = true
				users = append(users, name)
			}
		}
		j.Users = users
	}
	return j, nil
}
