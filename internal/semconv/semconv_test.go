package semconv

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The attribute names of Kubernetes objects exist once, here: a literal
// "k8s.pod.name" elsewhere is a name that can drift from the one the
// other components read (tests may spell them out).
func TestKubernetesNamesLiveHere(t *testing.T) {
	names := map[string]bool{}
	for _, n := range []string{AttrK8sNamespace, AttrK8sCluster, AttrK8sPodName, AttrK8sPodUID, AttrK8sPodIP, AttrK8sContainerName,
		AttrK8sDeploymentName, AttrK8sReplicaSetName, AttrK8sStatefulSetName, AttrK8sDaemonSetName, AttrK8sJobName, AttrK8sCronJobName} {
		names[n] = true
	}
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && path != root) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || filepath.Base(filepath.Dir(path)) == "semconv" {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if v, err := strconv.Unquote(lit.Value); err == nil && names[v] {
					t.Errorf("%s: %s: use the semconv constant", fset.Position(lit.Pos()), lit.Value)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
