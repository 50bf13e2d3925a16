//! Scheduling attributes of the calling thread: Linux `sched_setattr(2)`.
//!
//! Where it sits: the log writer (`switchyard::logs::sink`) calls
//! [`set_current_thread`] once, as its thread starts, to run below the
//! request path; the SQLite threads it starts afterwards inherit the
//! setting. It also turns on [`give_way`] (the `give_way` module), so that
//! its long SQLite steps yield to a runnable request thread. Nothing on the
//! request path calls either.
//!
//! Neither std nor the dependencies wrap `sched_setattr`, the only call that
//! sets a thread's own time slice (Linux 6.12 and later), so this crate makes
//! the system call itself. It is the one place in Switchyard with `unsafe`
//! code: a single block, in `sys::sched_setattr`, with the crate otherwise
//! at `deny(unsafe_code)`.

use std::io;
use std::time::Duration;

mod give_way;
pub use give_way::{give_way, give_way_every, yields};

/// A scheduling policy for the calling thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// The normal time-sharing policy (`SCHED_OTHER`) at `nice` (-20..=19).
    /// `slice`, when given, is the thread's own time slice (the kernel keeps
    /// it within 0.1–100 ms); `None` keeps the kernel's base slice.
    Normal {
        /// The nice value.
        nice: i32,
        /// The thread's own slice, or `None` for the kernel's.
        slice: Option<Duration>,
    },
    /// `SCHED_IDLE`: runs only on CPU time no other thread wants.
    Idle,
}

/// Set the calling thread's scheduling policy. Threads it starts afterwards
/// inherit it.
///
/// Without privilege (`CAP_SYS_NICE`) a thread may raise its nice value,
/// choose a slice and enter `Idle`, but neither lower its nice value below
/// what `RLIMIT_NICE` allows nor leave `Idle`: those fail with
/// [`io::ErrorKind::PermissionDenied`]. Kernels before 6.12 ignore the
/// slice. Elsewhere than Linux this returns [`io::ErrorKind::Unsupported`].
pub fn set_current_thread(policy: Policy) -> io::Result<()> {
    match policy {
        Policy::Normal { nice, slice } => {
            let slice_ns = slice.map_or(0, |s| u64::try_from(s.as_nanos()).unwrap_or(u64::MAX));
            sys::sched_setattr(sys::SCHED_OTHER, nice, slice_ns)
        }
        Policy::Idle => sys::sched_setattr(sys::SCHED_IDLE, 19, 0),
    }
}

/// A thread's scheduling attributes as the kernel reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observed {
    /// The nice value.
    pub nice: i32,
    /// The policy number: 0 `SCHED_OTHER`, 5 `SCHED_IDLE`, ….
    pub policy: u32,
    /// The time slice in ns, where the kernel shows it (scheduler debugging).
    pub slice_ns: Option<u64>,
}

/// Read the attributes of the thread whose proc directory is `task`
/// (`/proc/thread-self`, `/proc/self/task/<tid>`): for tests and
/// diagnostics. `None` if the thread is gone or the files are unreadable.
pub fn observe(task: &std::path::Path) -> Option<Observed> {
    let stat = std::fs::read_to_string(task.join("stat")).ok()?;
    // Fields after the parenthesised command, which may hold spaces; the
    // state is field 3, the nice value field 19, the policy field 41.
    let (_, rest) = stat.rsplit_once(") ")?;
    let field = |n: usize| rest.split(' ').nth(n - 3);
    let slice_ns = std::fs::read_to_string(task.join("sched"))
        .ok()
        .and_then(|sched| {
            let line = sched.lines().find(|l| l.starts_with("se.slice"))?;
            line.rsplit(' ').next()?.parse().ok()
        });
    Some(Observed {
        nice: field(19)?.parse().ok()?,
        policy: field(41)?.parse().ok()?,
        slice_ns,
    })
}

/// Whether this kernel gives a normal-policy thread the slice it asks for
/// (Linux 6.12 and later).
pub fn custom_slices_supported() -> bool {
    cfg!(target_os = "linux")
        && std::fs::read_to_string("/proc/sys/kernel/osrelease").is_ok_and(|release| {
            let mut parts = release
                .split(['.', '-'])
                .map(|p| p.trim().parse::<u32>().unwrap_or(0));
            (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (6, 12)
        })
}

#[cfg(target_os = "linux")]
mod sys {
    use std::io;

    pub const SCHED_OTHER: u32 = libc::SCHED_OTHER as u32;
    pub const SCHED_IDLE: u32 = libc::SCHED_IDLE as u32;

    /// `sched_setattr(0, attr, 0)` on the calling thread; `runtime_ns` is
    /// the slice of a normal-policy thread (0: the kernel's).
    #[allow(unsafe_code)]
    pub fn sched_setattr(policy: u32, nice: i32, runtime_ns: u64) -> io::Result<()> {
        let attr = libc::sched_attr {
            size: std::mem::size_of::<libc::sched_attr>() as u32,
            sched_policy: policy,
            sched_flags: 0,
            sched_nice: nice,
            sched_priority: 0,
            sched_runtime: runtime_ns,
            sched_deadline: 0,
            sched_period: 0,
        };
        // SAFETY: `attr` is a fully initialised `sched_attr` that lives for
        // the whole call and whose `size` is its own size, so the kernel reads
        // only memory it owns; it does not keep the pointer. Pid 0 is the
        // calling thread and flags are 0. The call changes nothing in this
        // process's memory.
        let rc = unsafe { libc::syscall(libc::SYS_sched_setattr, 0, &raw const attr, 0u32) };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    use std::io;

    pub const SCHED_OTHER: u32 = 0;
    pub const SCHED_IDLE: u32 = 5;

    pub fn sched_setattr(_policy: u32, _nice: i32, _runtime_ns: u64) -> io::Result<()> {
        Err(io::ErrorKind::Unsupported.into())
    }
}

#[cfg(test)]
#[cfg(target_os = "linux")]
mod tests {
    use super::*;

    fn current() -> Observed {
        observe(std::path::Path::new("/proc/thread-self")).unwrap()
    }

    #[test]
    fn a_normal_thread_gets_its_nice_value_and_slice_and_passes_them_on() {
        std::thread::spawn(|| {
            let policy = Policy::Normal {
                nice: 19,
                slice: Some(Duration::from_millis(10)),
            };
            set_current_thread(policy).unwrap();
            let Observed {
                nice,
                policy: class,
                slice_ns,
            } = current();
            assert_eq!((nice, class), (19, 0));
            if custom_slices_supported()
                && let Some(slice) = slice_ns
            {
                assert_eq!(slice, 10_000_000);
            }
            // A thread started afterwards inherits both.
            let child = std::thread::spawn(current).join().unwrap();
            assert_eq!(child, current());
        })
        .join()
        .unwrap();
    }

    #[test]
    fn an_idle_thread_runs_under_sched_idle() {
        std::thread::spawn(|| {
            set_current_thread(Policy::Idle).unwrap();
            assert_eq!(current().policy, 5);
        })
        .join()
        .unwrap();
    }
}
