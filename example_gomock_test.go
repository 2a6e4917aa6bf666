package iamkeys_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"go.uber.org/mock/gomock"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/mocks"
)

// printReporter is a gomock.TestReporter for an example, which has no
// *testing.T: a test passes its t to gomock.NewController instead.
type printReporter struct{}

func (printReporter) Errorf(format string, args ...any) { fmt.Printf(format+"\n", args...) }
func (printReporter) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

// Example_gomock drives a Manager with scripted IAM answers from package
// mocks. The SDK's methods end in variadic option functions
// (optFns ...func(*iam.Options)), and the Manager passes its
// WithClientOptions there, so every expectation needs a matcher for them
// too: gomock.Any() as the last argument. Without it, a call that carries
// options does not match ("wrong number of arguments") and fails the test.
func Example_gomock() {
	ctrl := gomock.NewController(printReporter{})
	defer ctrl.Finish() // reports expected calls that were not made
	api := mocks.NewMockAPIClient(ctrl)
	m, err := iamkeys.New(api, iamkeys.WithClientOptions(func(o *iam.Options) { o.Region = "eu-west-1" }))
	if err != nil {
		fmt.Println(err)
		return
	}

	api.EXPECT().
		CreateAccessKey(gomock.Any(), &iam.CreateAccessKeyInput{UserName: aws.String("alice")}, gomock.Any()).
		Return(&iam.CreateAccessKeyOutput{AccessKey: &types.AccessKey{
			UserName:        aws.String("alice"),
			AccessKeyId:     aws.String("AKIAIOSFODNN7EXAMPLE"),
			SecretAccessKey: aws.String("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
			Status:          types.StatusTypeActive,
		}}, nil)
	api.EXPECT().
		DeleteAccessKey(gomock.Any(), gomock.Any(), gomock.Any()).
		Return(nil, &types.NoSuchEntityException{Message: aws.String("The Access Key with id AKIAIOSFODNN7EXAMPLE cannot be found.")})

	ctx := context.Background()
	k, err := m.CreateKey(ctx, "alice")
	fmt.Println(k.ID, k.Status, err)
	err = m.DeleteKey(ctx, "alice", k.ID)
	fmt.Println(errors.Is(err, iamkeys.ErrNotFound))
	// Output:
	// AKIAIOSFODNN7EXAMPLE Active <nil>
	// true
}
