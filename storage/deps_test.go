package storage_test

import (
	"go/build"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/usher-idp/usher"

// The dependency rules of DESIGN.md (Architecture), checked on the non-test
// imports of every package of the module: storage imports nothing of ours;
// only storage/sqlstore imports SQL drivers; only provider imports fosite;
// provider and flows never import each other.
func TestDependencyDirection(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	imports := map[string][]string{} // package path → its non-test imports
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
			return filepath.SkipDir
		}
		pkg, err := build.ImportDir(path, 0)
		if err != nil {
			return nil // no Go files here
		}
		rel, _ := filepath.Rel(root, path)
		imports[filepath.ToSlash(rel)] = pkg.Imports
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(imports["storage"]) == 0 || len(imports["provider"]) == 0 {
		t.Fatalf("found packages %v: the walk missed storage or provider", len(imports))
	}
	within := func(dir, tree string) bool { return dir == tree || strings.HasPrefix(dir, tree+"/") }
	for dir, list := range imports {
		for _, imp := range list {
			switch {
			case dir == "storage" && strings.HasPrefix(imp, module+"/"):
				t.Errorf("storage imports %s: it imports nothing of ours", imp)
			case (imp == "github.com/lib/pq" || strings.HasPrefix(imp, "modernc.org/sqlite")) && !within(dir, "storage/sqlstore"):
				t.Errorf("%s imports the SQL driver %s: only storage/sqlstore does", dir, imp)
			case dir == "storage/sqlstore" && strings.HasPrefix(imp, module+"/") &&
				!within(strings.TrimPrefix(imp, module+"/"), "storage") && !within(strings.TrimPrefix(imp, module+"/"), "migrations"):
				t.Errorf("storage/sqlstore imports %s: it imports only storage and migrations of ours", imp)
			case strings.HasPrefix(imp, "github.com/ory/fosite") && !within(dir, "provider"):
				t.Errorf("%s imports %s: only provider imports fosite", dir, imp)
			case within(dir, "provider") && within(strings.TrimPrefix(imp, module+"/"), "flows"),
				within(dir, "flows") && within(strings.TrimPrefix(imp, module+"/"), "provider"):
				t.Errorf("%s imports %s: provider and flows meet through interfaces wired in cmd", dir, imp)
			}
		}
	}
}
