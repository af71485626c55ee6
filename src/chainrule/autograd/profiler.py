"""``torch.autograd.profiler``: the older profiler interface, over :mod:`chainrule.profiler`.

    with chainrule.autograd.profiler.profile(record_shapes=True) as prof:
        model(x).sum().backward()
    print(prof.key_averages().table(sort_by="self_cpu_time_total"))
"""
from ..profiler import EventList, FunctionEvent, FunctionEventAvg, record_function  # noqa: F401
from ..profiler import profile as _profile


class profile(_profile):
    """Record the ops run in the block as one trace (``enabled=False``: record nothing).
    ``use_cuda``/``use_device`` other than the CPU warn; ``with_*`` options are accepted and
    not recorded. Results: ``function_events``, ``key_averages()``, ``table()``,
    ``total_average()``, ``self_cpu_time_total``, ``export_chrome_trace(path)``."""

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False,
                 with_flops=False, profile_memory=False, with_stack=False, with_modules=False,
                 use_kineto=False, use_cpu=True, experimental_config=None, acc_events=False,
                 custom_trace_id_callback=None):
        super().__init__(record_shapes=record_shapes, profile_memory=profile_memory,
                         use_cuda=bool(use_cuda) or use_device not in (None, "cpu"))
        self.enabled = enabled

    def start(self):
        if self.enabled:
            super().start()

    @property
    def function_events(self) -> EventList:
        return self.events()

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75,
              max_name_column_width=55, max_shapes_column_width=80, header=None,
              top_level_events_only=False, time_unit=None) -> str:
        """``key_averages().table(...)``."""
        return self.key_averages().table(sort_by, row_limit, max_src_column_width,
                                         max_name_column_width, max_shapes_column_width, header,
                                         top_level_events_only, time_unit)

    def total_average(self) -> FunctionEventAvg:
        return self.events().total_average()

    @property
    def self_cpu_time_total(self) -> float:
        return self.events().self_cpu_time_total

    def __str__(self):
        return self.table()
