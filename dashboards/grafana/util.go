package grafana

import (
	"strconv"

	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
)

type variantsDataquery = variants.Dataquery

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
