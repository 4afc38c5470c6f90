package password_test

import (
	"context"
	"fmt"

	"github.com/usher-idp/usher/flows/password"
	"github.com/usher-idp/usher/storage"
)

func ExampleChecker_Check() {
	checker := password.NewChecker()
	policy := storage.PasswordPolicy{MinLength: 10, RequireDigit: true, RefuseCommon: true}
	fmt.Println(checker.Check(policy, "iloveyou", "ada@example.com", "ada"))
	fmt.Println(checker.Check(policy, "analytical engine 1843", "ada@example.com", "ada"))
	// Output:
	// [password.too_short password.needs_digit password.too_common]
	// []
}

func ExampleHasher_Verify() {
	hasher, err := password.NewHasher(password.Config{})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	// An account imported from a Django site.
	stored := "pbkdf2_sha256$260000$seasalt$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo="
	ok, rehash, err := hasher.Verify(ctx, "lètmein", stored)
	if err != nil {
		panic(err)
	}
	if ok && rehash {
		stored, err = hasher.Hash(ctx, "lètmein") // store this one instead
		if err != nil {
			panic(err)
		}
	}
	ok, rehash, _ = hasher.Verify(ctx, "lètmein", stored)
	fmt.Println(ok, rehash)
	// Output: true false
}
