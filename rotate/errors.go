package rotate

import "errors"

// Sentinel errors of this package, matched with errors.Is. Errors from IAM
// calls come wrapped in an [*iamkeys.Error], so errors.Is also reaches the
// iamkeys sentinels (iamkeys.ErrNotFound, iamkeys.ErrThrottled, ...) and
// errors.As the SDK's own error.
var (
	// ErrRotationInProgress: another process is inside a step of this user's
	// rotation (creating the new key, storing or verifying it), or won the
	// race to create it. It is the one error concurrent losers get; try
	// again later.
	ErrRotationInProgress = errors.New("rotate: another rotation of the user is in progress")
	// ErrNotStored: a store returns an error wrapping ErrNotStored when it
	// knows that its write did not apply, so the new key may be deleted at
	// once. Any other store error is taken as "cannot tell": the new key is
	// kept and the next reconcile reads the store back.
	ErrNotStored = errors.New("rotate: the store did not take the key")
	// ErrStoreHoldsKey: the key is the one the store holds, so it is not
	// deleted or retired.
	ErrStoreHoldsKey = errors.New("rotate: the store holds the key")
	// ErrNewKeyInUse: a rollback would delete a new key that has been used
	// after it was stored (other than by the verifier).
	ErrNewKeyInUse = errors.New("rotate: the new key has been used since it was stored")
	// ErrVerifyFailed: the verifier refused the new key; the old key was not
	// touched.
	ErrVerifyFailed = errors.New("rotate: the new access key failed verification")
	// ErrNotPropagated: the new key did not work for the STS verifier's
	// whole time bound; the old key was not touched.
	ErrNotPropagated = errors.New("rotate: the new access key did not become usable in time")
	// ErrBlocked: the user's keys are in a state the reconciler does not
	// change on its own (a second active key, an inactive key in the other
	// slot, a state record it cannot read); the Status says why.
	ErrBlocked = errors.New("rotate: the rotation is blocked")
	// ErrNoRoom: the user's own tags leave no room for the rotation's state
	// tag (IAM allows 50 per user).
	ErrNoRoom = errors.New("rotate: the user's tags leave no room for the rotation's state")
	// ErrNoServerTime: an IAM response carried no Date header, and the
	// rotation decides on IAM's clock only.
	ErrNoServerTime = errors.New("rotate: the IAM response carried no Date header")
	// ErrNothingToRollBack: no rotation of the user is in flight.
	ErrNothingToRollBack = errors.New("rotate: no rotation of the user is in flight")
)
