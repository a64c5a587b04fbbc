"""The server's metrics on TF Serving's Prometheus page.

Names and labels as TensorFlow Serving registers them
(tensorflow_serving/servables/tensorflow/util.cc: `/tensorflow/serving/request_count`
{model_name, status}; `/tensorflow/serving/request_latency` {model_name, API,
entrypoint}, microseconds, Buckets::Exponential(10, 1.8, 33)), and the page written
as util/prometheus_exporter.cc writes it: `/` becomes `:`, a `# TYPE` line per
metric and no HELP, cumulative `_bucket` lines with `le` the limit (the last
`+Inf`), then `_sum` and `_count`.
"""

from __future__ import annotations

import bisect
import threading

REQUEST_COUNT = ":tensorflow:serving:request_count"
REQUEST_LATENCY = ":tensorflow:serving:request_latency"
LIMITS = [10 * 1.8**i for i in range(33)]  # then DBL_MAX, written +Inf


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _num(x: float) -> str:
    return f"{x:.6g}"  # absl::StrCat of a double: six significant digits


class Metrics:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[tuple[str, str], int] = {}
        self.latency: dict[tuple[str, str, str], tuple[list[int], float]] = {}

    def request(self, model: str, status: str, api: str, micros: float) -> None:
        with self.lock:
            key = (model, status)
            self.counts[key] = self.counts.get(key, 0) + 1
            buckets, total = self.latency.get((model, api, "REST"), ([0] * (len(LIMITS) + 1), 0.0))
            buckets[bisect.bisect_right(LIMITS, micros)] += 1
            self.latency[(model, api, "REST")] = (buckets, total + micros)

    def page(self) -> str:
        with self.lock:
            lines = [f"# TYPE {REQUEST_COUNT} counter"]
            for (model, status), n in sorted(self.counts.items()):
                lines.append(
                    f'{REQUEST_COUNT}{{model_name="{_label(model)}",status="{status}"}} {n}'
                )
            lines.append(f"# TYPE {REQUEST_LATENCY} histogram")
            for (model, api, entry), (buckets, total) in sorted(self.latency.items()):
                labels = f'model_name="{_label(model)}",API="{api}",entrypoint="{entry}"'
                seen = 0
                for i, n in enumerate(buckets):
                    seen += n
                    le = _num(LIMITS[i]) if i < len(LIMITS) else "+Inf"
                    lines.append(f'{REQUEST_LATENCY}_bucket{{{labels},le="{le}"}} {seen}')
                lines.append(f"{REQUEST_LATENCY}_sum{{{labels}}} {_num(total)}")
                lines.append(f"{REQUEST_LATENCY}_count{{{labels}}} {seen}")
        return "\n".join(lines) + "\n"
