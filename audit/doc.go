// Package audit checks every access key of an AWS account against the
// compliance checks of AWS Config, Security Hub and CIS, live or from the
// credential report, and never passes silently over what it could not
// read. It reads only; each finding carries the [Remedy] this library
// would apply (package rotate rotates, iamkeys.Manager deactivates and
// deletes), consistent per user: a key gets one remedy, and applying every
// remedy of a report never deactivates a key in use.
//
//	a, _ := audit.New(iam.NewFromConfig(cfg))
//	rep, err := a.Run(ctx)
//	if errors.Is(err, audit.ErrPartialAudit) { ... } // rep.Incomplete says what is missing
//	for _, f := range rep.Findings {
//		if f.Severity >= audit.High { ... }
//	}
//
// # Modes
//
// [Live] (the default) lists every user, each user's keys and each key's
// last use, and asks GetAccountSummary whether the root user has a key.
// [CredentialReport] reads IAM's credential report: data up to 4 hours
// old, key slots instead of key IDs, and a constant number of requests for
// the report itself (typically 4: GenerateCredentialReport until it is
// COMPLETE, then GetCredentialReport). The report shows an inactive key and
// an expired one alike, as not active, so the audit then lists the keys of
// each user it shows with such a key (one ListAccessKeys) and gives those
// keys their status, Inactive or Expired, and their ID: 4 + k requests for
// k such users. [WithResolveStatus](false) keeps to the report's requests,
// and those keys show as [StatusNotActive], as do the keys it cannot match
// (see [WithResolveStatus]). Both modes see the root user's key.
//
// # Throttling
//
// A live audit of a large account is mostly GetAccessKeyLastUsed calls,
// and IAM throttles them. The audit paces itself to what IAM lets through
// and sends a throttled request again, for as long as its context allows:
// under a sustained rate limit it slows to the limit and finishes. Bound it
// with the context's deadline.
//
// # Errors
//
// New's and Run's errors are *iamkeys.Error naming the operation
// ("audit.New", "audit.Run"), and so are the errors of [Incomplete] entries
// ([OpUsers], [OpKeys], ...), each wrapped once: errors.Is reaches the
// iamkeys sentinels (iamkeys.ErrAccessDenied, iamkeys.ErrThrottled) and
// errors.As the SDK's own error. A partial report comes with an error
// matching [ErrPartialAudit] that unwraps to every entry's error.
package audit
