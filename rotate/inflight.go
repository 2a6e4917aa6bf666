package rotate

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/internal/iammodel"
)

// A Flight is a rotation in flight as IAM's state tag records it.
type Flight struct {
	User     string
	UserID   string
	Phase    Phase
	Attempt  string // the attempt ID
	OldKeyID string
	NewKeyID string
	// Err is set when the state tag does not parse; Phase is then
	// PhaseBlocked.
	Err error
}

// InFlight returns an iterator over the rotations in flight in the
// account, read from IAM alone: ListUsers (every page, from pathPrefix, ""
// meaning all) and, since IAM's listing carries no tags, one GetUser per
// user. Each call starts a fresh walk; break stops the requests; on failure
// it yields (Flight{}, err) once and stops.
func (r *Rotator) InFlight(ctx context.Context, pathPrefix string) iter.Seq2[Flight, error] {
	return func(yield func(Flight, error) bool) {
		if len(pathPrefix) > 512 || (pathPrefix != "" && !iammodel.PathPrefix.MatchString(pathPrefix)) {
			yield(Flight{}, &iamkeys.Error{Op: "rotate.InFlight", Err: invalid("path prefix",
				fmt.Sprintf("%q must begin with / and be at most 512 printable ASCII characters", pathPrefix))})
			return
		}
		in := &iam.ListUsersInput{}
		if pathPrefix != "" {
			in.PathPrefix = aws.String(pathPrefix)
		}
		pages := iam.NewListUsersPaginator(r.client, in, func(o *iam.ListUsersPaginatorOptions) { o.StopOnDuplicateToken = true })
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx, r.optFns...)
			if err != nil {
				yield(Flight{}, &iamkeys.Error{Op: "rotate.InFlight", Err: err})
				return
			}
			for _, u := range page.Users {
				f, ok, err := r.flight(ctx, aws.ToString(u.UserName))
				if err != nil {
					if !iamkeysNotFound(err) {
						yield(Flight{}, err)
						return
					}
					continue // deleted since the listing
				}
				if ok && !yield(f, nil) {
					return
				}
			}
		}
	}
}

// UserFlight reports user's rotation in flight, if any, from its state tag
// alone (one GetUser call).
func (r *Rotator) UserFlight(ctx context.Context, user string) (Flight, bool, error) {
	if err := r.checkArgs("UserFlight", user, WriteOnly(nil)); err != nil {
		return Flight{}, false, err
	}
	return r.flight(ctx, user)
}

func (r *Rotator) flight(ctx context.Context, user string) (Flight, bool, error) {
	out, err := r.client.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(user)}, r.optFns...)
	if err != nil {
		return Flight{}, false, &iamkeys.Error{Op: "rotate.InFlight", UserName: user, Err: err}
	}
	u := userFrom(out)
	v, ok := u.Tags[StateTag]
	if !ok {
		return Flight{}, false, nil
	}
	f := Flight{User: u.Name, UserID: u.ID}
	rec, err := parseRecord(v)
	if err != nil {
		f.Phase, f.Err = PhaseBlocked, err
		return f, true, nil
	}
	f.Phase, f.Attempt, f.OldKeyID, f.NewKeyID = phaseOf(rec.Phase), rec.ID, rec.Old, rec.New
	return f, true, nil
}

func iamkeysNotFound(err error) bool { return errors.Is(err, iamkeys.ErrNotFound) }
