package storagetest

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/usher-idp/usher/storage"
)

func assetTests() []test {
	return []test{
		{"RoundTripEveryField", testAssetRoundTrip},
		{"PutReplacesAndKeepsCreatedAt", testAssetReplace},
		{"NotFoundAndDelete", testAssetDelete},
		{"Isolation", testAssetIsolation},
		{"RolledBackPutLeavesNothing", testAssetRollback},
	}
}

// asset is a logo with every field set; its data holds every byte value.
func asset(name string) *storage.Asset {
	data := make([]byte, 512)
	for i := range data {
		data[i] = byte(i)
	}
	return &storage.Asset{Name: name, ContentType: "image/png", Data: data, Digest: "d1g35t-" + name}
}

func testAssetRoundTrip(e *env) {
	s, inst := e.scope("opera")
	a := asset(storage.AssetLogo)
	must(e.t, "put", s.PutAsset(e.ctx, a))
	want := *asset(storage.AssetLogo)
	want.InstitutionID, want.CreatedAt, want.UpdatedAt = inst.ID, e.now(), e.now()
	mustEqual(e.t, "the caller's record after put", *a, want)
	got, err := s.GetAsset(e.ctx, storage.AssetLogo)
	must(e.t, "get", err)
	mustEqual(e.t, "get", *got, want)
	mustNormalised(e.t, "get", *got)
}

func testAssetReplace(e *env) {
	s, _ := e.scope("opera")
	must(e.t, "put", s.PutAsset(e.ctx, asset(storage.AssetLogo)))
	created := e.now()
	e.clock.Advance(time.Hour)
	second := &storage.Asset{Name: storage.AssetLogo, ContentType: "image/svg+xml", Data: []byte("<svg/>"), Digest: "second"}
	must(e.t, "put again", s.PutAsset(e.ctx, second))
	mustTime(e.t, "created at, returned by the second put", second.CreatedAt, created)
	got, err := s.GetAsset(e.ctx, storage.AssetLogo)
	must(e.t, "get", err)
	if got.ContentType != "image/svg+xml" || !bytes.Equal(got.Data, []byte("<svg/>")) || got.Digest != "second" {
		e.t.Fatalf("put again: want the content replaced, got %s %q %s", got.ContentType, got.Data, got.Digest)
	}
	mustTime(e.t, "created at", got.CreatedAt, created)
	mustTime(e.t, "updated at", got.UpdatedAt, e.now())
}

func testAssetDelete(e *env) {
	s, _ := e.scope("opera")
	_, err := s.GetAsset(e.ctx, storage.AssetLogo)
	checkErr(e.t, "get a missing asset", err, storage.ErrNotFound)
	checkErr(e.t, "delete a missing asset", s.DeleteAsset(e.ctx, storage.AssetLogo), storage.ErrNotFound)
	must(e.t, "put logo", s.PutAsset(e.ctx, asset(storage.AssetLogo)))
	must(e.t, "put favicon", s.PutAsset(e.ctx, asset(storage.AssetFavicon)))
	must(e.t, "delete logo", s.DeleteAsset(e.ctx, storage.AssetLogo))
	_, err = s.GetAsset(e.ctx, storage.AssetLogo)
	checkErr(e.t, "get after delete", err, storage.ErrNotFound)
	if _, err := s.GetAsset(e.ctx, storage.AssetFavicon); err != nil {
		e.t.Fatalf("delete of the logo removed the favicon: %v", err)
	}
}

func testAssetIsolation(e *env) {
	a, _ := e.scope("opera")
	b, _ := e.scope("ballet")
	must(e.t, "put in a", a.PutAsset(e.ctx, asset(storage.AssetLogo)))
	_, err := b.GetAsset(e.ctx, storage.AssetLogo)
	checkErr(e.t, "b reads a's logo", err, storage.ErrNotFound)
	checkErr(e.t, "b deletes a's logo", b.DeleteAsset(e.ctx, storage.AssetLogo), storage.ErrNotFound)
	mine := &storage.Asset{Name: storage.AssetLogo, ContentType: "image/gif", Data: []byte("GIF89a"), Digest: "ballet"}
	must(e.t, "put the same name in b", b.PutAsset(e.ctx, mine))
	got, err := a.GetAsset(e.ctx, storage.AssetLogo)
	if err != nil || got.Digest != asset(storage.AssetLogo).Digest {
		e.t.Fatalf("b's put changed a's logo: %+v, %v", got, err)
	}
}

func testAssetRollback(e *env) {
	s, _ := e.scope("opera")
	boom := errors.New("boom")
	err := e.store.InTx(e.ctx, func(ctx context.Context) error {
		must(e.t, "put in the transaction", s.PutAsset(ctx, asset(storage.AssetLogo)))
		return boom
	})
	mustErr(e.t, "transaction", err, boom)
	_, err = s.GetAsset(e.ctx, storage.AssetLogo)
	checkErr(e.t, "get after the rollback", err, storage.ErrNotFound)
}
