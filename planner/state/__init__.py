"""State: what apply recorded per address (model), the file (store), the lock (lock)."""

from planner.state.lock import LockInfo, StateLock, force_unlock, read_lock_info
from planner.state.model import (
    FORMAT_VERSION,
    BackupInfo,
    DiskPair,
    RecordError,
    RestoreRecord,
    State,
    TargetInfo,
)
from planner.state.store import StateStore, default_state_path

__all__ = [
    "FORMAT_VERSION",
    "BackupInfo",
    "DiskPair",
    "LockInfo",
    "RecordError",
    "RestoreRecord",
    "State",
    "StateLock",
    "StateStore",
    "TargetInfo",
    "default_state_path",
    "force_unlock",
    "read_lock_info",
]
