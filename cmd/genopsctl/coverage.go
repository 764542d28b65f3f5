package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/genops-mesh/otelcol-genops/internal/coverage"
)

func newCoverage() *cobra.Command {
	var (
		namespace, output, kubeconfig, kubeContext, istioNamespace string
	)
	cmd := &cobra.Command{
		Use:   "coverage",
		Short: "Report which workloads run a mesh proxy, why injection is on or off, and which carry a team",
		Long: `coverage reads the cluster (kubeconfig, or the in-cluster service account)
and reports per namespace and workload: pods running a mesh proxy (Istio,
Linkerd, OSM, Consul; native sidecars count), whether injection is enabled
and by which rule, and whether the pods carry the genops.ai/team label
(theirs or their namespace's). Blind spots — unmeshed pods and pods without
a team — are marked; the summary gives the meshed and attributed shares.
It needs list on pods, namespaces and replicasets, and get on Istio's
istio-sidecar-injector ConfigMap (optional).`,
		Example: `  genopsctl coverage
  genopsctl coverage --namespace ai -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" {
				return fmt.Errorf("-o %q: use table or json", output)
			}
			rules := clientcmd.NewDefaultClientConfigLoadingRules()
			rules.ExplicitPath = kubeconfig
			cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules,
				&clientcmd.ConfigOverrides{CurrentContext: kubeContext}).ClientConfig()
			if err != nil {
				return fmt.Errorf("kubernetes config: %w", err)
			}
			client, err := kubernetes.NewForConfig(cfg)
			if err != nil {
				return err
			}
			r, err := coverage.Collect(cmd.Context(), client, coverage.Options{Namespace: namespace, IstioNamespace: istioNamespace})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if output == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(r)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAMESPACE\tWORKLOAD\tPODS\tMESHED\tINJECTION\tTEAM\tBLIND SPOTS")
			for _, w := range r.Workloads {
				inj := "off"
				if w.Injection {
					inj = "on"
				}
				team := "-"
				if w.Team != "" {
					team = w.Team + " (" + strings.TrimSuffix(w.TeamSource, "_label") + ")"
				}
				spots := strings.Join(w.BlindSpots(), ", ")
				if spots == "" {
					spots = "-"
				}
				fmt.Fprintf(tw, "%s\t%s/%s\t%d\t%d\t%s: %s\t%s\t%s\n", w.Namespace, w.Kind, w.Name, w.Pods, w.Meshed, inj, w.Rule, team, spots)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			s := r.Summary
			fmt.Fprintf(out, "\n%d pods: %d meshed (%s), %d attributed to a team (%s)\n",
				s.Pods, s.Meshed, coverage.Percent(s.MeshedShare), s.Attributed, coverage.Percent(s.AttributedShare))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&namespace, "namespace", "n", "", "only this namespace (default: all)")
	f.StringVarP(&output, "output", "o", "table", "table or json")
	f.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, then in-cluster)")
	f.StringVar(&kubeContext, "context", "", "kubeconfig context")
	f.StringVar(&istioNamespace, "istio-namespace", "istio-system", "namespace of Istio's istio-sidecar-injector ConfigMap")
	return cmd
}
