package main

import (
	"testing"

	"go.opentelemetry.io/collector/component"
)

// Every component the distribution promises is registered under its
// snake_case name, and the pre-0.150 names still resolve as aliases.
func TestComponents(t *testing.T) {
	factories, err := components()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"receiver":  {"otlp", "zipkin", "zipkin_contrib", "prometheus", "file_log", "filelog", "mesh_access_log"},
		"processor": {"memory_limiter", "batch", "k8s_attributes", "k8sattributes", "resource", "transform", "governance"},
		"connector": {"span_metrics", "spanmetrics", "count", "sli", "request_log"},
		"exporter":  {"prometheus", "otlp_grpc", "otlp", "otlp_http", "otlphttp", "debug", "load_balancing", "loadbalancing", "prometheus_remote_write", "prometheusremotewrite"},
		"extension": {"health_check", "file_storage", "pprof", "zpages"},
	}
	have := map[string]func(component.Type) bool{
		"receiver":  func(t component.Type) bool { _, ok := factories.Receivers[t]; return ok },
		"processor": func(t component.Type) bool { _, ok := factories.Processors[t]; return ok },
		"connector": func(t component.Type) bool { _, ok := factories.Connectors[t]; return ok },
		"exporter":  func(t component.Type) bool { _, ok := factories.Exporters[t]; return ok },
		"extension": func(t component.Type) bool { _, ok := factories.Extensions[t]; return ok },
	}
	for kind, types := range want {
		for _, name := range types {
			if !have[kind](component.MustNewType(name)) {
				t.Errorf("%s %q is not in the distribution", kind, name)
			}
		}
	}
	modules := map[string]map[component.Type]string{
		"receiver":  factories.ReceiverModules,
		"processor": factories.ProcessorModules,
		"connector": factories.ConnectorModules,
		"exporter":  factories.ExporterModules,
		"extension": factories.ExtensionModules,
	}
	for kind, m := range modules {
		if len(m) == 0 {
			t.Errorf("no %s modules recorded", kind)
		}
		for typ, mod := range m {
			if mod == "" {
				t.Errorf("%s %s has no module", kind, typ)
			}
		}
	}
}
