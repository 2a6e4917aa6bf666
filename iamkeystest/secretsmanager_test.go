package iamkeystest_test

import (
	"context"
	"errors"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/iamkeys/iamkeys/iamkeystest"
)

// smCtx is the context of the Secrets Manager tests' calls.
var smCtx = context.Background()

func TestSecretsManagerCreateAndGet(t *testing.T) {
	s, c, _ := newSM(t)
	arn := createSecret(t, c, "app/db", `{"user":"u","password":"p"}`)
	// Secrets Manager: the ARN ends in the name, a hyphen and six random
	// characters (§5.1).
	if !regexp.MustCompile(`^arn:aws:secretsmanager:us-east-1:` + s.AccountID() + `:secret:app/db-[A-Za-z0-9]{6}$`).MatchString(arn) {
		t.Fatalf("ARN %q", arn)
	}
	// SecretId accepts the name, the full ARN and the ARN without the
	// suffix (§5.1).
	for _, id := range []string{"app/db", arn, strings.TrimSuffix(arn, arn[len(arn)-7:])} {
		out, err := c.GetSecretValue(smCtx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		if err != nil {
			t.Fatalf("GetSecretValue %s: %v", id, err)
		}
		if aws.ToString(out.SecretString) != `{"user":"u","password":"p"}` || aws.ToString(out.ARN) != arn ||
			aws.ToString(out.VersionId) != token(0) || !slices.Equal(out.VersionStages, []string{"AWSCURRENT"}) {
			t.Errorf("GetSecretValue %s: ARN %s version %s stages %v", id, aws.ToString(out.ARN), aws.ToString(out.VersionId), out.VersionStages)
		}
		// §1.2: timestamps are epoch numbers, which the SDK decodes.
		if !aws.ToTime(out.CreatedDate).Equal(start) {
			t.Errorf("CreatedDate = %v, want %v", out.CreatedDate, start)
		}
	}
	_, err := c.GetSecretValue(smCtx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("app/other")})
	e := wantSMError[*types.ResourceNotFoundException](t, err)
	if e.ErrorMessage() != "Secrets Manager can't find the specified secret." {
		t.Errorf("message %q", e.ErrorMessage())
	}
	// A fresh suffix per secret: re-creating a name gives another ARN.
	if _, err := c.DeleteSecret(smCtx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(arn), ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if again := createSecret(t, c, "app/db", "x"); again == arn {
		t.Errorf("re-created secret has the old ARN %s", arn)
	}
}

func TestSecretsManagerCreateIdempotency(t *testing.T) {
	_, c, _ := newSM(t)
	create := func(tok, value string) (*secretsmanager.CreateSecretOutput, error) {
		return c.CreateSecret(smCtx, &secretsmanager.CreateSecretInput{Name: aws.String("s"), ClientRequestToken: aws.String(tok), SecretString: aws.String(value)})
	}
	first, err := create(token(1), "v")
	if err != nil {
		t.Fatal(err)
	}
	// §5.4: the same token and value is the same call, answered alike.
	again, err := create(token(1), "v")
	if err != nil || aws.ToString(again.ARN) != aws.ToString(first.ARN) || aws.ToString(again.VersionId) != token(1) {
		t.Fatalf("repeat CreateSecret: %v, %v", again, err)
	}
	// §5.4: the same token with another value is refused, naming the ARN
	// and never the value.
	_, err = create(token(1), "other-value")
	e := wantSMError[*types.ResourceExistsException](t, err)
	if want := "You can't use ClientRequestToken " + token(1) + " because that value is already in use for a version of secret " + aws.ToString(first.ARN) + "."; e.ErrorMessage() != want {
		t.Errorf("message %q, want %q", e.ErrorMessage(), want)
	}
	if strings.Contains(err.Error(), "other-value") {
		t.Errorf("error shows the value: %v", err)
	}
	// §5.4: another token on an existing name.
	_, err = create(token(2), "v")
	e = wantSMError[*types.ResourceExistsException](t, err)
	if e.ErrorMessage() != "The operation failed because the secret s already exists." {
		t.Errorf("message %q", e.ErrorMessage())
	}
}

func TestSecretsManagerFirstVersionIsCurrent(t *testing.T) {
	_, c, _ := newSM(t)
	createSecret(t, c, "empty", "")
	// §5.2: a secret created without a value has no versions at all.
	if st := stages(t, c, "empty"); st != nil {
		t.Fatalf("VersionIdsToStages = %v, want none", st)
	}
	_, err := c.GetSecretValue(smCtx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("empty")})
	e := wantSMError[*types.ResourceNotFoundException](t, err)
	if e.ErrorMessage() != "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT" {
		t.Errorf("message %q", e.ErrorMessage())
	}
	// §5.3, rule 3: the first version of an empty secret gets AWSCURRENT
	// whatever VersionStages says.
	got := putValue(t, c, "empty", token(1), "v1", "AWSPENDING")
	if !slices.Equal(got, []string{"AWSCURRENT", "AWSPENDING"}) {
		t.Fatalf("first version's stages %v", got)
	}
	if v := valueAt(t, c, "empty", "AWSCURRENT"); v != "v1" {
		t.Fatalf("AWSCURRENT = %q", v)
	}
}

func TestSecretsManagerStagingLabels(t *testing.T) {
	_, c, _ := newSM(t)
	createSecret(t, c, "s", "v0") // version token(0), AWSCURRENT
	// §5.3, rule 2: a put without VersionStages moves AWSCURRENT and makes
	// the old current AWSPREVIOUS.
	if got := putValue(t, c, "s", token(1), "v1"); !slices.Equal(got, []string{"AWSCURRENT"}) {
		t.Fatalf("put stages %v", got)
	}
	want := map[string][]string{token(0): {"AWSPREVIOUS"}, token(1): {"AWSCURRENT"}}
	if got := stages(t, c, "s"); !maps.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("after put: %v, want %v", got, want)
	}
	putValue(t, c, "s", token(2), "v2")
	// The old AWSPREVIOUS holder is deprecated: hidden (rule 6).
	want = map[string][]string{token(1): {"AWSPREVIOUS"}, token(2): {"AWSCURRENT"}}
	if got := stages(t, c, "s"); !maps.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("after second put: %v, want %v", got, want)
	}
	list, err := c.ListSecretVersionIds(smCtx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("s")})
	if err != nil || len(list.Versions) != 2 {
		t.Fatalf("ListSecretVersionIds: %v, %v", list, err)
	}
	all, err := c.ListSecretVersionIds(smCtx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("s"), IncludeDeprecated: aws.Bool(true)})
	if err != nil || len(all.Versions) != 3 {
		t.Fatalf("ListSecretVersionIds with deprecated: %v, %v", all, err)
	}
	for _, v := range all.Versions {
		// Deprecated versions come back without a VersionStages key.
		if aws.ToString(v.VersionId) == token(0) && v.VersionStages != nil {
			t.Errorf("deprecated version has stages %v", v.VersionStages)
		}
		if !aws.ToTime(v.CreatedDate).Equal(start) {
			t.Errorf("CreatedDate %v", v.CreatedDate)
		}
	}

	// Rule 3: a put with VersionStages leaves AWSCURRENT alone.
	if got := putValue(t, c, "s", token(3), "v3", "AWSPENDING"); !slices.Equal(got, []string{"AWSPENDING"}) {
		t.Fatalf("pending put stages %v", got)
	}
	if v := valueAt(t, c, "s", "AWSCURRENT"); v != "v2" {
		t.Fatalf("AWSCURRENT = %q after a pending put", v)
	}
	if v := valueAt(t, c, "s", "AWSPENDING"); v != "v3" {
		t.Fatalf("AWSPENDING = %q", v)
	}
	// Rule 1: a label sits on one version; a new pending put moves it.
	putValue(t, c, "s", token(4), "v4", "AWSPENDING", "custom")
	want = map[string][]string{token(1): {"AWSPREVIOUS"}, token(2): {"AWSCURRENT"}, token(4): {"AWSPENDING", "custom"}}
	if got := stages(t, c, "s"); !maps.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("after second pending put: %v, want %v", got, want)
	}
}

func TestSecretsManagerPutIdempotency(t *testing.T) {
	_, c, _ := newSM(t)
	createSecret(t, c, "s", "v0")
	putValue(t, c, "s", token(1), "v1", "AWSPENDING")
	// §5.4: the same token and value again: success, no new version, and
	// the answer lists the version's stages.
	if got := putValue(t, c, "s", token(1), "v1", "AWSPENDING"); !slices.Equal(got, []string{"AWSPENDING"}) {
		t.Fatalf("repeat put stages %v", got)
	}
	all, _ := c.ListSecretVersionIds(smCtx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("s"), IncludeDeprecated: aws.Bool(true)})
	if len(all.Versions) != 2 {
		t.Fatalf("%d versions after a repeated put, want 2", len(all.Versions))
	}
	_, err := c.PutSecretValue(smCtx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), ClientRequestToken: aws.String(token(1)), SecretString: aws.String("changed")})
	wantSMError[*types.ResourceExistsException](t, err)
	// A binary value with the same token as a string one differs too.
	_, err = c.PutSecretValue(smCtx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), ClientRequestToken: aws.String(token(1)), SecretBinary: []byte("v1")})
	wantSMError[*types.ResourceExistsException](t, err)
}

func TestSecretsManagerBinaryValue(t *testing.T) {
	_, c, _ := newSM(t)
	createSecret(t, c, "bin", "")
	if _, err := c.PutSecretValue(smCtx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("bin"), ClientRequestToken: aws.String(token(1)), SecretBinary: []byte{0, 1, 2, 255}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetSecretValue(smCtx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("bin")})
	if err != nil || !slices.Equal(out.SecretBinary, []byte{0, 1, 2, 255}) || out.SecretString != nil {
		t.Fatalf("GetSecretValue: %v, %v", out, err)
	}
}

func TestSecretsManagerUpdateVersionStage(t *testing.T) {
	_, c, _ := newSM(t)
	createSecret(t, c, "s", "old")
	putValue(t, c, "s", token(1), "new", "AWSPENDING")
	update := func(stage string, move, remove *string) error {
		_, err := c.UpdateSecretVersionStage(smCtx, &secretsmanager.UpdateSecretVersionStageInput{
			SecretId: aws.String("s"), VersionStage: aws.String(stage), MoveToVersionId: move, RemoveFromVersionId: remove,
		})
		return err
	}
	// §5.3, rule 5: moving a label attached elsewhere needs
	// RemoveFromVersionId naming its holder.
	e := wantSMError[*types.InvalidParameterException](t, update("AWSCURRENT", aws.String(token(1)), nil))
	if !strings.Contains(e.ErrorMessage(), "RemoveFromVersionId") {
		t.Errorf("message %q", e.ErrorMessage())
	}
	// §5.6: a RemoveFromVersionId that does not hold the label.
	e2 := wantSMError[*types.InvalidRequestException](t, update("AWSCURRENT", aws.String(token(1)), aws.String(token(1))))
	if e2.ErrorMessage() != "You provided a VersionStage that is not associated to the provided VersionId." {
		t.Errorf("message %q", e2.ErrorMessage())
	}
	wantSMError[*types.ResourceNotFoundException](t, update("AWSCURRENT", aws.String(token(9)), aws.String(token(0))))
	// AWSCURRENT can only be moved, never removed.
	wantSMError[*types.InvalidParameterException](t, update("AWSCURRENT", nil, aws.String(token(0))))

	// The rotation's finishSecret (§5.7): AWSCURRENT moves, the old
	// version becomes AWSPREVIOUS, and AWSPENDING stays until removed
	// (§5.3, rule 4).
	if err := update("AWSCURRENT", aws.String(token(1)), aws.String(token(0))); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{token(0): {"AWSPREVIOUS"}, token(1): {"AWSCURRENT", "AWSPENDING"}}
	if got := stages(t, c, "s"); !maps.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("after move: %v, want %v", got, want)
	}
	if err := update("AWSPENDING", nil, aws.String(token(1))); err != nil {
		t.Fatal(err)
	}
	want = map[string][]string{token(0): {"AWSPREVIOUS"}, token(1): {"AWSCURRENT"}}
	if got := stages(t, c, "s"); !maps.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("after removing AWSPENDING: %v, want %v", got, want)
	}
	if v := valueAt(t, c, "s", "AWSCURRENT"); v != "new" {
		t.Fatalf("AWSCURRENT = %q", v)
	}
	// Moving a label onto its holder again changes nothing.
	if err := update("AWSCURRENT", aws.String(token(1)), aws.String(token(1))); err != nil {
		t.Fatal(err)
	}
	// Rollback: AWSCURRENT back to the AWSPREVIOUS holder.
	if err := update("AWSCURRENT", aws.String(token(0)), aws.String(token(1))); err != nil {
		t.Fatal(err)
	}
	want = map[string][]string{token(0): {"AWSCURRENT"}, token(1): {"AWSPREVIOUS"}}
	if got := stages(t, c, "s"); !maps.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("after rollback: %v, want %v", got, want)
	}
	// GetSecretValue with a VersionId and a stage it lacks (§5.6).
	_, err := c.GetSecretValue(smCtx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s"), VersionId: aws.String(token(0)), VersionStage: aws.String("AWSPREVIOUS")})
	wantSMError[*types.InvalidRequestException](t, err)
	_, err = c.GetSecretValue(smCtx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s"), VersionStage: aws.String("AWSPENDING")})
	if e := wantSMError[*types.ResourceNotFoundException](t, err); e.ErrorMessage() != "Secrets Manager can't find the specified secret value for staging label: AWSPENDING" {
		t.Errorf("message %q", e.ErrorMessage())
	}
}

func TestSecretsManagerVersionLimit(t *testing.T) {
	// §5.3, rule 6: unlabelled versions are removed beyond the limit, but
	// none younger than 24 hours; past that, PutSecretValue fails with
	// LimitExceededException.
	s, c, clock := newSM(t, iamkeystest.WithSecretVersionLimit(3))
	createSecret(t, c, "s", "v0")
	putValue(t, c, "s", token(1), "v1")
	putValue(t, c, "s", token(2), "v2") // token(0) is now deprecated
	_, err := c.PutSecretValue(smCtx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), ClientRequestToken: aws.String(token(3)), SecretString: aws.String("v3")})
	e := wantSMError[*types.LimitExceededException](t, err)
	if !strings.Contains(e.ErrorMessage(), "3 versions") {
		t.Errorf("message %q does not name the quota", e.ErrorMessage())
	}
	// A repeat of an applied put is not a new version: no quota.
	putValue(t, c, "s", token(2), "v2")

	// Go retries LimitExceededException (§1.5): three attempts.
	s.ResetCalls()
	retrying := secretsmanager.NewFromConfig(s.Config(), smFastRetry)
	_, err = retrying.PutSecretValue(smCtx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), ClientRequestToken: aws.String(token(3)), SecretString: aws.String("v3")})
	wantSMError[*types.LimitExceededException](t, err)
	if n := s.Calls("PutSecretValue"); n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}

	clock.Advance(24 * time.Hour)
	putValue(t, c, "s", token(3), "v3") // token(0) is removed
	all, _ := c.ListSecretVersionIds(smCtx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("s"), IncludeDeprecated: aws.Bool(true)})
	var ids []string
	for _, v := range all.Versions {
		ids = append(ids, aws.ToString(v.VersionId))
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{token(1), token(2), token(3)}) {
		t.Fatalf("versions %v", ids)
	}
	// Labelled versions are never removed, however old: with three
	// labelled versions there is no room.
	putValue(t, c, "s", token(4), "v4", "AWSPENDING") // token(1), deprecated and 24 h old, is removed
	_, err = c.PutSecretValue(smCtx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), ClientRequestToken: aws.String(token(5)), SecretString: aws.String("v5"), VersionStages: []string{"custom"}})
	wantSMError[*types.LimitExceededException](t, err)
	clock.Advance(48 * time.Hour)
	_, err = c.PutSecretValue(smCtx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), ClientRequestToken: aws.String(token(5)), SecretString: aws.String("v5"), VersionStages: []string{"custom"}})
	wantSMError[*types.LimitExceededException](t, err)
}

func TestSecretsManagerDeletion(t *testing.T) {
	_, c, clock := newSM(t)
	arn := createSecret(t, c, "s", "v")
	del := func(window *int64, force *bool) (*secretsmanager.DeleteSecretOutput, error) {
		return c.DeleteSecret(smCtx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("s"), RecoveryWindowInDays: window, ForceDeleteWithoutRecovery: force})
	}
	wantSMError[*types.InvalidParameterException](t, func() error { _, err := del(aws.Int64(6), nil); return err }())
	wantSMError[*types.InvalidParameterException](t, func() error { _, err := del(aws.Int64(31), nil); return err }())
	wantSMError[*types.InvalidParameterException](t, func() error { _, err := del(aws.Int64(7), aws.Bool(true)); return err }())

	out, err := del(aws.Int64(7), nil)
	if err != nil || aws.ToString(out.ARN) != arn || !aws.ToTime(out.DeletionDate).Equal(start.Add(7*24*time.Hour)) {
		t.Fatalf("DeleteSecret: %v, %v", out, err)
	}
	// §5.5: DescribeSecret still works and shows DeletedDate and versions.
	d, err := c.DescribeSecret(smCtx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("s")})
	if err != nil || !aws.ToTime(d.DeletedDate).Equal(start) || len(d.VersionIdsToStages) != 1 {
		t.Fatalf("DescribeSecret of a deleted secret: %v, %v", d, err)
	}
	// §5.5: reads and writes are InvalidRequestException, not NotFound.
	for name, call := range map[string]func() error{
		"GetSecretValue": func() error {
			_, err := c.GetSecretValue(smCtx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s")})
			return err
		},
		"PutSecretValue": func() error {
			_, err := c.PutSecretValue(smCtx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("x")})
			return err
		},
		"UpdateSecretVersionStage": func() error {
			_, err := c.UpdateSecretVersionStage(smCtx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("s"), VersionStage: aws.String("L"), MoveToVersionId: aws.String(token(0))})
			return err
		},
		"DeleteSecret": func() error { _, err := del(nil, nil); return err },
	} {
		e := wantSMError[*types.InvalidRequestException](t, call())
		if e.ErrorMessage() != "You can't perform this operation on the secret because it was marked for deletion." {
			t.Errorf("%s: message %q", name, e.ErrorMessage())
		}
	}
	_, err = c.CreateSecret(smCtx, &secretsmanager.CreateSecretInput{Name: aws.String("s")})
	if e := wantSMError[*types.InvalidRequestException](t, err); e.ErrorMessage() != "You can't create this secret because a secret with this name is already scheduled for deletion." {
		t.Errorf("CreateSecret: message %q", e.ErrorMessage())
	}
	// ListSecrets leaves it out unless asked.
	if l, _ := c.ListSecrets(smCtx, &secretsmanager.ListSecretsInput{}); len(l.SecretList) != 0 {
		t.Errorf("ListSecrets shows a deleted secret")
	}
	if l, _ := c.ListSecrets(smCtx, &secretsmanager.ListSecretsInput{IncludePlannedDeletion: aws.Bool(true)}); len(l.SecretList) != 1 || l.SecretList[0].DeletedDate == nil {
		t.Errorf("ListSecrets with IncludePlannedDeletion: %v", l)
	}

	// RestoreSecret clears the schedule.
	if _, err := c.RestoreSecret(smCtx, &secretsmanager.RestoreSecretInput{SecretId: aws.String("s")}); err != nil {
		t.Fatal(err)
	}
	if v := valueAt(t, c, "s", "AWSCURRENT"); v != "v" {
		t.Fatalf("value after restore %q", v)
	}
	// The window ends on the server clock: the secret is gone.
	if _, err := del(nil, nil); err != nil {
		t.Fatal(err)
	}
	clock.Advance(30 * 24 * time.Hour)
	_, err = c.DescribeSecret(smCtx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("s")})
	wantSMError[*types.ResourceNotFoundException](t, err)

	// §5.5: a forced delete is allowed on a scheduled secret, and on one
	// that does not exist.
	createSecret(t, c, "s", "v")
	if _, err := del(nil, nil); err != nil {
		t.Fatal(err)
	}
	if out, err := del(nil, aws.Bool(true)); err != nil || !aws.ToTime(out.DeletionDate).Equal(clock.Now()) {
		t.Fatalf("forced delete of a scheduled secret: %v, %v", out, err)
	}
	_, err = c.DescribeSecret(smCtx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("s")})
	wantSMError[*types.ResourceNotFoundException](t, err)
	if _, err := del(nil, aws.Bool(true)); err != nil {
		t.Fatalf("forced delete of a missing secret: %v", err)
	}
}

func TestSecretsManagerValidation(t *testing.T) {
	s, c, _ := newSM(t)
	createSecret(t, c, "s", "v")
	// §5.1: a bad name is ValidationException, unmodeled in Go.
	_, err := c.CreateSecret(smCtx, &secretsmanager.CreateSecretInput{Name: aws.String("bad name!")})
	if e := wantSMCode(t, err, "ValidationException"); !strings.HasPrefix(e.ErrorMessage(), "Invalid name.") {
		t.Errorf("message %q", e.ErrorMessage())
	}
	_, err = c.GetSecretValue(smCtx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("no#such")})
	wantSMCode(t, err, "ValidationException")
	_, err = c.CreateSecret(smCtx, &secretsmanager.CreateSecretInput{Name: aws.String(strings.Repeat("a", 513))})
	wantSMCode(t, err, "ValidationException")
	// §5.1: ClientRequestToken is 32 to 64 characters.
	_, err = c.PutSecretValue(smCtx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), ClientRequestToken: aws.String("short"), SecretString: aws.String("x")})
	wantSMCode(t, err, "ValidationException")
	// §5.1: a value is at most 65536 and never shown in the error.
	big := strings.Repeat("z", 65537)
	_, err = c.PutSecretValue(smCtx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String(big)})
	if wantSMCode(t, err, "ValidationException"); strings.Contains(err.Error(), "zzzz") {
		t.Errorf("the error shows the value")
	}
	if _, err = c.PutSecretValue(smCtx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String(big[1:])}); err != nil {
		t.Errorf("a value of 65536 characters: %v", err)
	}
	_, err = c.PutSecretValue(smCtx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("x"), SecretBinary: []byte("x")})
	wantSMError[*types.InvalidParameterException](t, err)
	_, err = c.PutSecretValue(smCtx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), VersionStages: []string{}, SecretString: aws.String("x")})
	if err == nil {
		t.Errorf("empty VersionStages accepted")
	}

	// §5.4: raw HTTP without a token is refused before the secret is
	// looked up.
	status, body := rawSM(t, s, "PutSecretValue", `{"SecretId":"missing","SecretString":"x"}`)
	if status != 400 || body != `{"Message":"You must provide a ClientRequestToken value. We recommend a UUID-type value.","__type":"InvalidRequestException"}` {
		t.Errorf("raw put without token: %d %s", status, body)
	}
	status, body = rawSM(t, s, "RotateSecret", `{}`)
	if status != 400 || !strings.Contains(body, "UnknownOperationException") {
		t.Errorf("unknown operation: %d %s", status, body)
	}
}

func TestSecretsManagerListSecrets(t *testing.T) {
	_, c, clock := newSM(t)
	for _, n := range []string{"app/a", "app/b", "other"} {
		createSecret(t, c, n, "v")
		clock.Advance(time.Second)
	}
	var names []string
	p := secretsmanager.NewListSecretsPaginator(c, &secretsmanager.ListSecretsInput{MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(smCtx)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.SecretList {
			names = append(names, aws.ToString(e.Name))
			if len(e.SecretVersionsToStages) != 1 {
				t.Errorf("%s: SecretVersionsToStages %v", aws.ToString(e.Name), e.SecretVersionsToStages)
			}
		}
	}
	if !slices.Equal(names, []string{"app/a", "app/b", "other"}) {
		t.Fatalf("ListSecrets names %v", names)
	}
	l, err := c.ListSecrets(smCtx, &secretsmanager.ListSecretsInput{Filters: []types.Filter{{Key: types.FilterNameStringTypeName, Values: []string{"app/"}}}})
	if err != nil || len(l.SecretList) != 2 {
		t.Fatalf("ListSecrets name filter: %v, %v", l, err)
	}
	_, err = c.ListSecrets(smCtx, &secretsmanager.ListSecretsInput{NextToken: aws.String("garbage")})
	wantSMError[*types.InvalidNextTokenException](t, err)
}

func TestSecretsManagerFaults(t *testing.T) {
	s, c, _ := newSM(t)
	createSecret(t, c, "s", "v")

	// An injected code answers as AWS does, typed where the SDK models it.
	s.FailNext("GetSecretValue", "ResourceNotFoundException", 1)
	_, err := c.GetSecretValue(smCtx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s")})
	if e := wantSMError[*types.ResourceNotFoundException](t, err); e.ErrorMessage() != "Secrets Manager can't find the specified secret." {
		t.Errorf("message %q", e.ErrorMessage())
	}
	// §1.4: AccessDenied names the caller, the action and the SecretId as
	// sent.
	s.FailNext("PutSecretValue", "AccessDeniedException", 1)
	_, err = c.PutSecretValue(smCtx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), ClientRequestToken: aws.String(token(1)), SecretString: aws.String("denied")})
	e := wantSMCode(t, err, "AccessDeniedException")
	if want := "User: arn:aws:iam::" + s.AccountID() + ":user/admin is not authorized to perform: secretsmanager:PutSecretValue on resource: s because no identity-based policy allows the secretsmanager:PutSecretValue action"; e.ErrorMessage() != want {
		t.Errorf("message %q, want %q", e.ErrorMessage(), want)
	}
	if st := stages(t, c, "s"); len(st) != 1 {
		t.Fatalf("a refused put applied: %v", st)
	}

	// Ambiguous: the change applies and the answer is lost.
	s.FailNextAmbiguous("PutSecretValue", 1, iamkeystest.InternalError)
	_, err = c.PutSecretValue(smCtx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), ClientRequestToken: aws.String(token(2)), SecretString: aws.String("v2"), VersionStages: []string{"AWSPENDING"}})
	var internal *types.InternalServiceError
	if !errors.As(err, &internal) {
		t.Fatalf("ambiguous put: %v, want InternalServiceError", err)
	}
	if v := valueAt(t, c, "s", "AWSPENDING"); v != "v2" {
		t.Fatalf("the ambiguous put did not apply: %q", v)
	}
	// With the SDK's retries the same token makes the retry harmless: one
	// version, and success.
	s.FailNextAmbiguous("PutSecretValue", 1, iamkeystest.DropConnection)
	retrying := secretsmanager.NewFromConfig(s.Config(), smFastRetry)
	if _, err := retrying.PutSecretValue(smCtx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), ClientRequestToken: aws.String(token(3)), SecretString: aws.String("v3"), VersionStages: []string{"AWSPENDING"}}); err != nil {
		t.Fatalf("retried put: %v", err)
	}
	all, _ := c.ListSecretVersionIds(smCtx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("s"), IncludeDeprecated: aws.Bool(true)})
	if len(all.Versions) != 3 {
		t.Fatalf("%d versions, want 3", len(all.Versions))
	}
}

func TestSecretsManagerThrottling(t *testing.T) {
	s, _, _ := newSM(t)
	c := secretsmanager.NewFromConfig(s.Config(), smFastRetry)
	createSecret(t, c, "s", "v")
	// §1.5: ThrottlingException is retried by the SDK, up to 3 attempts.
	s.ResetCalls()
	s.FailNext("DescribeSecret", "ThrottlingException", 2)
	if _, err := c.DescribeSecret(smCtx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("s")}); err != nil {
		t.Fatalf("DescribeSecret after two throttles: %v", err)
	}
	if n := s.Calls("DescribeSecret"); n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}
	s.FailNext("DescribeSecret", "ThrottlingException", 3)
	_, err := c.DescribeSecret(smCtx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("s")})
	if e := wantSMCode(t, err, "ThrottlingException"); e.ErrorMessage() != "Rate exceeded" {
		t.Errorf("message %q", e.ErrorMessage())
	}

	// The server-wide throttle speaks Secrets Manager's code.
	_, c2, _ := newSM(t, iamkeystest.WithThrottleFraction(1))
	_, err = c2.ListSecrets(smCtx, &secretsmanager.ListSecretsInput{})
	wantSMCode(t, err, "ThrottlingException")
}

func TestSecretsManagerAuthentication(t *testing.T) {
	s, _, _ := newSM(t)
	// §1.4: an unknown key is UnrecognizedClientException, 400.
	c := secretsmanager.NewFromConfig(s.ConfigFor("AKIAUNKNOWNUNKNOWN00", "secret"), smNoRetry)
	_, err := c.ListSecrets(smCtx, &secretsmanager.ListSecretsInput{})
	if e := wantSMCode(t, err, "UnrecognizedClientException"); e.ErrorMessage() != "The security token included in the request is invalid." {
		t.Errorf("message %q", e.ErrorMessage())
	}
	// A known key with the wrong secret fails its signature.
	c = secretsmanager.NewFromConfig(s.ConfigFor(s.AdminCredentials().AccessKeyID, "wrong"), smNoRetry)
	_, err = c.ListSecrets(smCtx, &secretsmanager.ListSecretsInput{})
	wantSMCode(t, err, "InvalidSignatureException")
	// An inactive key is unknown too.
	k := mustKey(t, s, mustUser(t, s, "bob").Name)
	if _, err := s.Client(noRetry).UpdateAccessKey(smCtx, &iam.UpdateAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: aws.String(k.ID), Status: iamtypes.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	c = secretsmanager.NewFromConfig(s.ConfigFor(k.ID, k.Secret), smNoRetry)
	_, err = c.ListSecrets(smCtx, &secretsmanager.ListSecretsInput{})
	wantSMCode(t, err, "UnrecognizedClientException")
}

// TestSecretString reads a label's value without a request, and reports a
// missing secret or label.
func TestSecretString(t *testing.T) {
	srv := iamkeystest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	c := secretsmanager.NewFromConfig(srv.Config())
	if _, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("app"), SecretString: aws.String("one")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("app"), SecretString: aws.String("two"),
		VersionStages: []string{"AWSPENDING"}}); err != nil {
		t.Fatal(err)
	}
	before := srv.Calls("GetSecretValue")
	for _, tt := range []struct{ id, stage, want string }{
		{"app", "AWSCURRENT", "one"},
		{"app", "AWSPENDING", "two"},
		{"app", "AWSPREVIOUS", ""},
		{"missing", "AWSCURRENT", ""},
	} {
		got, vid, ok := srv.SecretString(tt.id, tt.stage)
		if got != tt.want || ok != (tt.want != "") || ok && vid == "" {
			t.Errorf("SecretString(%q, %q) = %q, %q, %v; want %q", tt.id, tt.stage, got, vid, ok, tt.want)
		}
	}
	if n := srv.Calls("GetSecretValue") - before; n != 0 {
		t.Errorf("SecretString made %d requests", n)
	}
}
