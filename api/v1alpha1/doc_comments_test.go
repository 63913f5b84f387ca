package v1alpha1_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoProseAfterMarkers fails on a doc comment whose text goes on after a +marker line:
// controller-gen puts every non-marker line into the CRD's description, so a remark meant for
// the code's readers, written under the markers, reaches kubectl explain. Such a remark
// belongs in a comment apart from the doc comment.
func TestNoProseAfterMarkers(t *testing.T) {
	files, err := filepath.Glob("*_types.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no type files: %v", err)
	}
	fset := token.NewFileSet()
	for _, file := range files {
		f, err := parser.ParseFile(fset, file, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			var doc *ast.CommentGroup
			switch n := n.(type) {
			case *ast.Field:
				doc = n.Doc
			case *ast.GenDecl:
				doc = n.Doc
			case *ast.TypeSpec:
				doc = n.Doc
			}
			if line, ok := proseAfterMarker(doc); ok {
				t.Errorf("%s: doc comment text after a marker reaches the CRD description: %q", fset.Position(n.Pos()), line)
			}
			return true
		})
	}
}

// proseAfterMarker returns the first line of doc that is text following a +marker line.
func proseAfterMarker(doc *ast.CommentGroup) (string, bool) {
	if doc == nil {
		return "", false
	}
	marked := false
	for _, c := range doc.List {
		line := strings.TrimSpace(strings.TrimPrefix(c.Text, "//"))
		switch {
		case strings.HasPrefix(line, "+"):
			marked = true
		case marked && line != "":
			return line, true
		}
	}
	return "", false
}
