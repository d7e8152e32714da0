package tools

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/mcpfunc/mcpfunc/servers/weather/nws"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// forecastPeriods is the number of forecast periods get_forecast returns.
const forecastPeriods = 5

// ForecastInput is the input of get_forecast.
type ForecastInput struct {
	Latitude  float64 `json:"latitude" jsonschema:"Latitude in decimal degrees, from -90 to 90 (e.g. 39.7456). Rounded to 4 decimals."`
	Longitude float64 `json:"longitude" jsonschema:"Longitude in decimal degrees, from -180 to 180 (e.g. -97.0892). Rounded to 4 decimals."`
}

// ForecastOutput is the structured output of get_forecast.
type ForecastOutput struct {
	Latitude  float64  `json:"latitude" jsonschema:"Latitude used, rounded to 4 decimals."`
	Longitude float64  `json:"longitude" jsonschema:"Longitude used, rounded to 4 decimals."`
	Periods   []Period `json:"periods" jsonschema:"The next forecast periods (at most 5), usually 12 hours each."`
	Notes     []string `json:"notes,omitempty" jsonschema:"What was cut from the NWS text to fit size limits, if anything."`
}

// Period is one forecast period in [ForecastOutput].
type Period struct {
	Name                string   `json:"name" jsonschema:"Period name, e.g. Tonight or Tuesday."`
	StartTime           string   `json:"startTime" jsonschema:"Start of the period (RFC 3339)."`
	EndTime             string   `json:"endTime" jsonschema:"End of the period (RFC 3339)."`
	IsDaytime           bool     `json:"isDaytime" jsonschema:"Whether the period is daytime."`
	Temperature         *float64 `json:"temperature,omitempty" jsonschema:"Temperature in temperatureUnit."`
	TemperatureUnit     string   `json:"temperatureUnit" jsonschema:"Temperature unit: F or C."`
	WindSpeed           string   `json:"windSpeed" jsonschema:"Wind speed, e.g. 5 to 10 mph."`
	WindDirection       string   `json:"windDirection" jsonschema:"Wind direction, e.g. NW."`
	ShortForecast       string   `json:"shortForecast" jsonschema:"Short forecast, e.g. Partly Cloudy."`
	DetailedForecast    string   `json:"detailedForecast" jsonschema:"Detailed forecast text."`
	PrecipitationChance *int     `json:"precipitationChance,omitempty" jsonschema:"Probability of precipitation in percent, when the NWS gives one."`
}

// validateCoordinates checks latitude and longitude ranges.
func validateCoordinates(lat, lon float64) error {
	var errs []error
	if math.IsNaN(lat) || math.IsInf(lat, 0) || lat < -90 || lat > 90 {
		errs = append(errs, fmt.Errorf("invalid latitude %v: must be a number from -90 to 90", lat))
	}
	if math.IsNaN(lon) || math.IsInf(lon, 0) || lon < -180 || lon > 180 {
		errs = append(errs, fmt.Errorf("invalid longitude %v: must be a number from -180 to 180", lon))
	}
	return errors.Join(errs...)
}

func (h *handlers) getForecast(ctx context.Context, _ *mcp.CallToolRequest, in ForecastInput) (*mcp.CallToolResult, ForecastOutput, error) {
	if err := validateCoordinates(in.Latitude, in.Longitude); err != nil {
		h.log.Debug("get_forecast: invalid input", "error", err)
		return nil, ForecastOutput{}, err
	}
	lat, lon := nws.RoundCoordinate(in.Latitude), nws.RoundCoordinate(in.Longitude)
	where := nws.FormatCoordinate(lat) + "," + nws.FormatCoordinate(lon)

	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	pt, err := h.nws.Point(ctx, lat, lon)
	if err != nil {
		return nil, ForecastOutput{}, h.upstreamError("get_forecast", err, func(se *nws.StatusError) string {
			if se.Status == http.StatusNotFound {
				return fmt.Sprintf("no NWS forecast for %s: the location is outside NWS coverage (the NWS API covers the US and its territories only)", where)
			}
			return ""
		})
	}
	if strings.TrimSpace(pt.Properties.Forecast) == "" {
		err := fmt.Errorf("no NWS forecast for %s: the National Weather Service API returned no forecast URL for this point", where)
		h.log.Info("tool call failed", "tool", "get_forecast", "error", err)
		return nil, ForecastOutput{}, err
	}
	fc, err := h.nws.Forecast(ctx, pt.Properties.Forecast)
	if err != nil {
		return nil, ForecastOutput{}, h.upstreamError("get_forecast", err, nil)
	}
	periods := fc.Properties.Periods
	if len(periods) == 0 {
		err := fmt.Errorf("no NWS forecast for %s: the National Weather Service API returned a forecast without periods", where)
		h.log.Info("tool call failed", "tool", "get_forecast", "error", err)
		return nil, ForecastOutput{}, err
	}
	periods = periods[:min(len(periods), forecastPeriods)]

	out := ForecastOutput{Latitude: lat, Longitude: lon, Periods: make([]Period, 0, len(periods))}
	blocks := make([]string, 0, len(periods)+1)
	tc := &textCleaner{itemName: "forecast periods"}
	for i, p := range periods {
		// Every string from the NWS is cleaned and capped.
		field := func(name, s string, max int) string {
			return tc.field(fmt.Sprintf("period %d %s", i+1, name), s, max)
		}
		op := Period{
			Name:             field("name", p.Name, maxShortText),
			StartTime:        field("startTime", p.StartTime, maxShortText),
			EndTime:          field("endTime", p.EndTime, maxShortText),
			IsDaytime:        p.IsDaytime,
			Temperature:      p.Temperature,
			TemperatureUnit:  field("temperatureUnit", p.TemperatureUnit, maxShortText),
			WindSpeed:        field("windSpeed", p.WindSpeed, maxShortText),
			WindDirection:    field("windDirection", p.WindDirection, maxShortText),
			ShortForecast:    field("shortForecast", p.ShortForecast, maxShortText),
			DetailedForecast: field("detailedForecast", p.DetailedForecast, maxLongText),
		}
		if v := p.ProbabilityOfPrecipitation.Value; v != nil && !math.IsNaN(*v) {
			pc := int(math.Round(*v))
			op.PrecipitationChance = &pc
		}
		temp := "Unknown"
		if p.Temperature != nil {
			temp = strconv.FormatFloat(*p.Temperature, 'f', -1, 64) + "°" + op.TemperatureUnit
		}
		block := strings.Join([]string{
			op.Name + ":",
			"Temperature: " + temp,
			"Wind: " + op.WindSpeed + " " + op.WindDirection,
			"Forecast: " + op.DetailedForecast,
		}, "\n")
		size := len(block) + len(op.Name) + len(op.StartTime) + len(op.EndTime) + len(op.TemperatureUnit) +
			len(op.WindSpeed) + len(op.WindDirection) + len(op.ShortForecast) + len(op.DetailedForecast)
		if !tc.fits(size, len(periods)-i) {
			break
		}
		out.Periods = append(out.Periods, op)
		blocks = append(blocks, block)
	}
	res, notes := h.cleanedResult("get_forecast", tc, blocks)
	out.Notes = notes
	return res, out, nil
}
