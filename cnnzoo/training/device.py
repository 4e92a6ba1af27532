"""Where training runs: the device, several processes under ``torchrun``, the memory format,
mixed precision, and the random number generators' state."""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ..errors import InvalidArgumentError

__all__ = ["Dist", "Precision", "channels_last_helps", "init_distributed", "pick_device"]


def pick_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"``: CUDA if available, then Apple's MPS, then the CPU.

    Raises:
        InvalidArgumentError: an unknown device, or one this machine does not have.
    """
    if isinstance(device, torch.device):
        return device
    name = str(device).lower()
    mps = getattr(torch.backends, "mps", None)
    has_mps = bool(mps is not None and mps.is_available())
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if has_mps else torch.device("cpu")
    kind = name.split(":")[0]
    if kind not in ("cpu", "cuda", "mps"):
        raise InvalidArgumentError(f"unknown device {device!r}; use auto, cpu, cuda or mps")
    from ..devices import check_device_index

    check_device_index(name)  # cpu:7, cpu:abc, cuda:9 on a 1-GPU machine
    if kind == "cuda" and not torch.cuda.is_available():
        raise InvalidArgumentError("device 'cuda' asked for, but torch sees no CUDA GPU here")
    if kind == "mps" and not has_mps:
        raise InvalidArgumentError("device 'mps' asked for, but torch.backends.mps is unavailable")
    return torch.device(name)


def channels_last_helps(device: torch.device, model: nn.Module) -> bool:
    """Measured (benchmarks/bench_train.py): on the CPU, channels_last speeds LeNet-5 training
    up; on CUDA, cuDNN picks its layout itself for float32."""
    return device.type == "cpu" and any(isinstance(m, nn.Conv2d) for m in model.modules())


def sum_dtype(device: torch.device) -> torch.dtype:
    """Loss sums in float64 (an epoch adds up many numbers); MPS has no float64."""
    return torch.float32 if device.type == "mps" else torch.float64


@dataclass
class Dist:
    """This process's place among the processes of one run (one process: rank 0 of 1)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    owns_group: bool = False

    @property
    def active(self) -> bool:
        return self.world > 1

    def all_sum(self, values: list[float]) -> list[float]:
        if not self.active:
            return values
        import torch.distributed as dist

        t = torch.tensor(values, dtype=torch.float64)
        if dist.get_backend() == "nccl":
            t = t.cuda()
        dist.all_reduce(t)
        return t.cpu().tolist()

    def broadcast(self, obj: Any) -> Any:
        if not self.active:
            return obj
        import torch.distributed as dist

        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def close(self) -> None:
        if self.owns_group:
            import torch.distributed as dist

            dist.destroy_process_group()


def init_distributed(device_arg: str | torch.device) -> tuple[Dist, torch.device]:
    """Join the process group ``torchrun`` describes (gloo on CPU, nccl on CUDA), if any."""
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1 and not (dist.is_available() and dist.is_initialized()):
        return Dist(), pick_device(device_arg)
    if not dist.is_available():
        raise InvalidArgumentError("WORLD_SIZE > 1 but this torch has no torch.distributed")
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(device_arg)
    if device.type == "cuda":
        device = torch.device("cuda", local_rank % torch.cuda.device_count())
        torch.cuda.set_device(device)
    elif device.type == "mps":
        raise InvalidArgumentError(
            "distributed training runs on CUDA (nccl) or the CPU (gloo); use --device cpu"
        )
    owns = False
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
        owns = True
    return Dist(dist.get_rank(), dist.get_world_size(), local_rank, owns), device


@dataclass
class Precision:
    """Mixed precision: ``autocast`` to ``dtype`` and, for float16, a gradient scaler."""

    device: torch.device
    dtype: torch.dtype | None = None  # None: float32, no autocast
    scaler: Any = None

    @property
    def name(self) -> str:
        return "float32" if self.dtype is None else str(self.dtype).replace("torch.", "")

    def autocast(self) -> AbstractContextManager[Any]:
        if self.dtype is None:
            return nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.dtype)


def cpu_has_fast_bfloat16() -> bool:
    """True where torch's CPU kernels run bfloat16 natively (AVX-512 and up); elsewhere they
    emulate it, more slowly than float32."""
    capability = str(torch.backends.cpu.get_cpu_capability()).upper()
    return capability.startswith("AVX512") or "AMX" in capability


def make_precision(amp: bool, device: torch.device) -> Precision:
    """``amp=True``: on CUDA bfloat16 where the GPU supports it, else float16 with a
    ``GradScaler``; on a CPU with AVX-512 bfloat16 (benchmarks/bench_strategies.py measured
    0.59x the time of float32 for resnet20 there, but 1.44x for LeNet-5: it pays for the larger
    networks only). Refused on a CPU
    without it (emulated bfloat16 is slower than float32) and on MPS.

    Raises:
        InvalidArgumentError: ``amp`` where it would be slower or is not supported.
    """
    if not amp:
        return Precision(device)
    if device.type == "cuda":
        if torch.cuda.is_bf16_supported():
            return Precision(device, torch.bfloat16)
        return Precision(device, torch.float16, torch.amp.GradScaler("cuda"))
    if device.type == "cpu":
        if cpu_has_fast_bfloat16():
            return Precision(device, torch.bfloat16)
        raise InvalidArgumentError(
            "--amp on this CPU: it has no AVX-512, so bfloat16 is emulated and trains slower "
            "than float32 (and float16 is not supported on the CPU); leave --amp off"
        )
    raise InvalidArgumentError(
        f"--amp is supported on CUDA GPUs and AVX-512 CPUs, not on {device.type}; leave --amp off"
    )


def rng_state(device: torch.device) -> dict[str, Any]:
    """The global generators' state, for the checkpoint."""
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict[str, Any], device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)
