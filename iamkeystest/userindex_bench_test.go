package iamkeystest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamkeys/iamkeys/iamkeystest"
)

// BenchmarkListUsersScale walks every page of ListUsers (100 users a page,
// IAM's default) through the SDK, on accounts of 1,000, 10,000 and 50,000
// users. It reports ns/user, which stays flat when a page costs the same
// however many users the account holds, and, on the 50k run, x-50k/1k: its
// ns/user over the 1k run's, measured in the same run (1 means flat).
func BenchmarkListUsersScale(b *testing.B) {
	perUser := map[int]float64{}
	for _, n := range []int{1_000, 10_000, 50_000} {
		b.Run(fmt.Sprintf("users=%dk", n/1000), func(b *testing.B) {
			srv := iamkeystest.NewServer()
			defer srv.Close()
			// Unpadded names, so many arrive out of listing order.
			for i := range n - 1 { // the bootstrap admin is the last
				if _, err := srv.AddUser(fmt.Sprintf("user%d", i)); err != nil {
					b.Fatal(err)
				}
			}
			c := srv.Client()
			ctx := context.Background()
			b.ResetTimer()
			for range b.N {
				p := iam.NewListUsersPaginator(c, &iam.ListUsersInput{MaxItems: aws.Int32(100)})
				got := 0
				for p.HasMorePages() {
					page, err := p.NextPage(ctx)
					if err != nil {
						b.Fatal(err)
					}
					got += len(page.Users)
				}
				if got != n {
					b.Fatalf("listed %d users, want %d", got, n)
				}
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N*n)
			perUser[n] = ns
			b.ReportMetric(ns, "ns/user")
			if base, ok := perUser[1_000]; ok && n == 50_000 {
				b.ReportMetric(ns/base, "x-50k/1k")
			}
		})
	}
}
