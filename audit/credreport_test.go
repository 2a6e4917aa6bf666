package audit

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"go.uber.org/mock/gomock"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/mocks"
)

// fakeClock moves only when slept on, and records the sleeps.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.sleeps = append(c.sleeps, d)
	c.mu.Unlock()
	return ctx.Err()
}

const reportHeaderLine = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"

// A report in IAM's format (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html): the root row, a user with
// one key used in a region, one whose slot 1 is active and slot 2 an
// inactive key with its date, booleans in both cases, "Z" and "+00:00".
const sampleReport = reportHeaderLine + `
<root_account>,arn:aws:iam::123456789012:root,2017-06-10T02:35:07+00:00,not_supported,2017-10-22T08:11:09+00:00,not_supported,not_supported,true,true,2017-06-10T02:40:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
fakeuser,arn:aws:iam::123456789012:user/fakeuser,2017-07-01T02:18:08+00:00,true,2017-07-01T02:21:06+00:00,2017-10-22T08:12:28+00:00,N/A,true,true,2017-10-22T08:12:39+00:00,2017-11-08T18:39:00+00:00,ap-southeast-1,ec2,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
pair,arn:aws:iam::123456789012:user/team/pair,2020-01-01T00:00:00Z,FALSE,N/A,N/A,N/A,false,TRUE,2024-03-01T10:00:00Z,2024-05-01T00:00:00.5Z,N/A,s3,false,2024-01-01T00:00:00+00:00,no_information,N/A,N/A,false,N/A,false,N/A
nokeys,arn:aws:iam::123456789012:user/nokeys,2020-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
`

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParseCredentialReport(t *testing.T) {
	gen := mustTime(t, "2024-06-01T00:00:00Z")
	users, bad, err := parseCredentialReport([]byte(sampleReport), gen)
	if err != nil || len(bad) != 0 {
		t.Fatalf("err %v, bad rows %v", err, bad)
	}
	if len(users) != 4 {
		t.Fatalf("%d users, want 4", len(users))
	}
	root, fake, pair, nokeys := users[0], users[1], users[2], users[3]

	if !root.root || root.password != nil || len(root.keys) != 1 || root.keys[0].Slot != "access_key_1" ||
		root.keys[0].Status != iamkeys.StatusActive || !root.keys[0].Root || root.keys[0].Used {
		t.Errorf("root: %+v", root)
	}
	if fake.root || fake.password == nil || !*fake.password || len(fake.keys) != 1 {
		t.Fatalf("fakeuser: %+v", fake)
	}
	k := fake.keys[0]
	want := Key{
		UserName: "fakeuser", ARN: "arn:aws:iam::123456789012:user/fakeuser", Slot: "access_key_1",
		Status: iamkeys.StatusActive, Created: mustTime(t, "2017-10-22T08:12:39Z"),
		Used: true, LastUsed: mustTime(t, "2017-11-08T18:39:00Z"), LastService: "ec2", LastRegion: "ap-southeast-1",
		DataTime: gen,
	}
	if k != want {
		t.Errorf("fakeuser key\n got %+v\nwant %+v", k, want)
	}

	if pair.password == nil || *pair.password || len(pair.keys) != 2 {
		t.Fatalf("pair: %+v", pair)
	}
	a, b := pair.keys[0], pair.keys[1]
	if a.Status != iamkeys.StatusActive || !a.LastUsed.Equal(mustTime(t, "2024-05-01T00:00:00.5Z")) || a.LastRegion != "" || a.LastService != "s3" {
		t.Errorf("pair slot 1: %+v", a)
	}
	if b.Slot != "access_key_2" || b.Status != StatusNotActive || !b.Created.Equal(mustTime(t, "2024-01-01T00:00:00Z")) || b.Used {
		t.Errorf("pair slot 2 (inactive, never used): %+v", b)
	}
	if len(nokeys.keys) != 0 {
		t.Errorf("nokeys: %+v", nokeys)
	}
}

func TestParseCredentialReportColumnsByName(t *testing.T) {
	// The same report with its columns in reverse order and a new column.
	lines := strings.Split(strings.TrimSpace(sampleReport), "\n")
	var rev []string
	for i, l := range lines {
		f := strings.Split(l, ",")
		slices.Reverse(f)
		extra := "future_column"
		if i > 0 {
			extra = "x"
		}
		rev = append(rev, strings.Join(append(f, extra), ","))
	}
	gen := mustTime(t, "2024-06-01T00:00:00Z")
	want, _, _ := parseCredentialReport([]byte(sampleReport), gen)
	got, bad, err := parseCredentialReport([]byte(strings.Join(rev, "\n")), gen)
	if err != nil || len(bad) != 0 || len(got) != len(want) {
		t.Fatalf("err %v, bad %v, %d users", err, bad, len(got))
	}
	for i := range want {
		if !slices.Equal(got[i].keys, want[i].keys) || got[i].name != want[i].name {
			t.Errorf("user %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestParseCredentialReportErrors(t *testing.T) {
	gen := time.Now()
	for _, bad := range []string{
		"",
		"user,arn\nalice,arn:aws:iam::1:user/alice\n",
		reportHeaderLine + "\nalice,arn,too,few\n",
	} {
		if _, _, err := parseCredentialReport([]byte(bad), gen); err == nil {
			t.Errorf("no error for %q", bad)
		}
	}

	// A bad value spoils its row only: the row is an Incomplete entry.
	rows := reportHeaderLine + `
alice,arn:aws:iam::1:user/alice,2020-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,yesterday,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
bob,arn:aws:iam::1:user/bob,2020-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,maybe,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
carol,arn:aws:iam::1:user/carol,2020-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2024-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
dave,arn:aws:iam::1:user/dave,2020-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
`
	users, incomplete, err := parseCredentialReport([]byte(rows), gen)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 1 || users[0].name != "carol" {
		t.Errorf("users %+v, want carol only", users)
	}
	// dave: an active key without a date would otherwise look 2,000 years old.
	if len(incomplete) != 3 || incomplete[0].UserName != "alice" || incomplete[1].UserName != "bob" || incomplete[2].UserName != "dave" ||
		!strings.Contains(incomplete[0].Err.Error(), "access_key_1_last_rotated") || incomplete[0].Op != OpCredentialReport ||
		!strings.Contains(incomplete[2].Err.Error(), "without a date") {
		t.Errorf("incomplete %+v", incomplete)
	}
}

func generated(state types.ReportStateType) *iam.GenerateCredentialReportOutput {
	return &iam.GenerateCredentialReportOutput{State: state}
}

func reportOut(content string, at time.Time) *iam.GetCredentialReportOutput {
	return &iam.GetCredentialReportOutput{Content: []byte(content), ReportFormat: types.ReportFormatTypeTextCsv, GeneratedTime: aws.Time(at)}
}

// TestCredentialReportWaits: the report is polled with doubling waits on
// the Manager's clock while IAM generates it, and generated again when it
// was replaced between the poll and the fetch.
func TestCredentialReportWaits(t *testing.T) {
	ctrl := gomock.NewController(t)
	api := mocks.NewMockAuditClient(ctrl)
	clk := &fakeClock{now: rulesNow}
	a, err := New(api, WithClock(clk), WithMode(CredentialReport))
	if err != nil {
		t.Fatal(err)
	}
	gen := rulesNow.Add(-time.Hour)
	gomock.InOrder(
		api.EXPECT().GenerateCredentialReport(gomock.Any(), gomock.Any(), gomock.Any()).Return(generated(types.ReportStateTypeStarted), nil),
		api.EXPECT().GenerateCredentialReport(gomock.Any(), gomock.Any(), gomock.Any()).Return(generated(types.ReportStateTypeInprogress), nil),
		api.EXPECT().GenerateCredentialReport(gomock.Any(), gomock.Any(), gomock.Any()).Return(generated(types.ReportStateTypeComplete), nil),
		api.EXPECT().GetCredentialReport(gomock.Any(), gomock.Any(), gomock.Any()).Return(nil, &types.CredentialReportNotReadyException{Message: aws.String("in progress")}),
		api.EXPECT().GenerateCredentialReport(gomock.Any(), gomock.Any(), gomock.Any()).Return(generated(types.ReportStateTypeComplete), nil),
		api.EXPECT().GetCredentialReport(gomock.Any(), gomock.Any(), gomock.Any()).Return(reportOut(sampleReport, gen), nil),
		// Only pair has a key not active: its keys are listed, once.
		api.EXPECT().ListAccessKeys(gomock.Any(), gomock.Any(), gomock.Any()).DoAndReturn(
			func(_ context.Context, in *iam.ListAccessKeysInput, _ ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
				if aws.ToString(in.UserName) != "pair" {
					t.Errorf("ListAccessKeys for %q, want pair", aws.ToString(in.UserName))
				}
				return &iam.ListAccessKeysOutput{AccessKeyMetadata: []types.AccessKeyMetadata{
					{UserName: aws.String("pair"), AccessKeyId: aws.String("AKIAPAIREXAMPLE00001"), Status: types.StatusTypeActive, CreateDate: aws.Time(mustTime(t, "2024-03-01T10:00:00Z"))},
					{UserName: aws.String("pair"), AccessKeyId: aws.String("AKIAPAIREXAMPLE00002"), Status: types.StatusTypeExpired, CreateDate: aws.Time(mustTime(t, "2024-01-01T00:00:00Z"))},
				}}, nil
			}),
	)
	rep, err := a.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.GeneratedTime.Equal(gen) || rep.Users != 4 || len(rep.Findings) == 0 {
		t.Errorf("report: generated %v, %d users, %d findings", rep.GeneratedTime, rep.Users, len(rep.Findings))
	}
	for _, k := range rep.Keys {
		if k.UserName == "pair" && k.Slot == "access_key_2" && (k.Status != iamkeys.StatusExpired || k.KeyID != "AKIAPAIREXAMPLE00002") {
			t.Errorf("pair's slot 2: status %s, ID %q; want Expired, AKIAPAIREXAMPLE00002", k.Status, k.KeyID)
		}
	}
	if want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}; !slices.Equal(clk.sleeps, want) {
		t.Errorf("waits %v, want %v", clk.sleeps, want)
	}
}

func TestCredentialReportFailures(t *testing.T) {
	tests := []struct {
		name   string
		get    *iam.GetCredentialReportOutput
		getErr error
		op     string
	}{
		{"fetch fails", nil, &types.ServiceFailureException{Message: aws.String("boom")}, OpCredentialReport},
		{"empty", reportOut("", rulesNow), nil, OpCredentialReport},
		{"no time", &iam.GetCredentialReportOutput{Content: []byte(sampleReport)}, nil, OpCredentialReport},
		{"not CSV", reportOut("user,arn\n", rulesNow), nil, OpCredentialReport},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctrl := gomock.NewController(t)
			api := mocks.NewMockAuditClient(ctrl)
			a, _ := New(api, WithClock(&fakeClock{now: rulesNow}), WithMode(CredentialReport))
			api.EXPECT().GenerateCredentialReport(gomock.Any(), gomock.Any(), gomock.Any()).Return(generated(types.ReportStateTypeComplete), nil)
			api.EXPECT().GetCredentialReport(gomock.Any(), gomock.Any(), gomock.Any()).Return(tt.get, tt.getErr)
			rep, err := a.Run(t.Context())
			if !errors.Is(err, ErrPartialAudit) || rep == nil || len(rep.Incomplete) != 1 || rep.Incomplete[0].Op != tt.op || rep.Users != 0 {
				t.Fatalf("err %v, report %+v", err, rep)
			}
		})
	}
}
