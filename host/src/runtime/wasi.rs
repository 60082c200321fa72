//! The minimal WASI a guest gets (DESIGN §4): no environment, no arguments, no stdin, no
//! filesystem, no sockets; stdout and stderr become log lines tagged with the adapter and hotel.
//! Clocks and randomness are harmless and allowed.
//!
//! Only these interfaces are linked: `wasi:io/{error,poll,streams}`, `wasi:cli/*` (environment,
//! exit, stdio, terminal), `wasi:clocks/{wall-clock,monotonic-clock}` and
//! `wasi:random/{random,insecure,insecure-seed}`. `wasi:filesystem`, `wasi:sockets` and
//! `wasi:http` are never linked, so even a component that slipped past vetting could not use them.

use super::state::CallState;
use crate::capabilities::log::{Level, OutputBudget};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use wasmtime::component::{HasData, Linker, ResourceTable};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream, WasiCli};
use wasmtime_wasi::clocks::WasiClocks;
use wasmtime_wasi::p2::bindings::{cli, clocks, random};
use wasmtime_wasi::random::WasiRandom;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder};

/// Longest log line taken from guest stdout/stderr; longer output is split.
const MAX_LINE: usize = 4096;

struct HasIo;

impl HasData for HasIo {
    type Data<'a> = &'a mut ResourceTable;
}

/// Links the allowed WASI interfaces, and nothing else.
pub fn add_to_linker(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    use wasmtime_wasi_io::bindings::wasi::io;
    io::error::add_to_linker::<CallState, HasIo>(linker, |s| &mut s.table)?;
    io::poll::add_to_linker::<CallState, HasIo>(linker, |s| &mut s.table)?;
    io::streams::add_to_linker::<CallState, HasIo>(linker, |s| &mut s.table)?;
    let l = linker;
    use wasmtime_wasi::cli::WasiCliView;
    use wasmtime_wasi::clocks::WasiClocksView;
    use wasmtime_wasi::random::WasiRandomView;
    clocks::wall_clock::add_to_linker::<CallState, WasiClocks>(l, CallState::clocks)?;
    clocks::monotonic_clock::add_to_linker::<CallState, WasiClocks>(l, CallState::clocks)?;
    random::random::add_to_linker::<CallState, WasiRandom>(l, CallState::random)?;
    random::insecure::add_to_linker::<CallState, WasiRandom>(l, CallState::random)?;
    random::insecure_seed::add_to_linker::<CallState, WasiRandom>(l, CallState::random)?;
    cli::exit::add_to_linker::<CallState, WasiCli>(l, CallState::cli)?;
    cli::environment::add_to_linker::<CallState, WasiCli>(l, CallState::cli)?;
    cli::stdin::add_to_linker::<CallState, WasiCli>(l, CallState::cli)?;
    cli::stdout::add_to_linker::<CallState, WasiCli>(l, CallState::cli)?;
    cli::stderr::add_to_linker::<CallState, WasiCli>(l, CallState::cli)?;
    cli::terminal_input::add_to_linker::<CallState, WasiCli>(l, CallState::cli)?;
    cli::terminal_output::add_to_linker::<CallState, WasiCli>(l, CallState::cli)?;
    cli::terminal_stdin::add_to_linker::<CallState, WasiCli>(l, CallState::cli)?;
    cli::terminal_stdout::add_to_linker::<CallState, WasiCli>(l, CallState::cli)?;
    cli::terminal_stderr::add_to_linker::<CallState, WasiCli>(l, CallState::cli)?;
    Ok(())
}

/// A default-deny WASI context: empty environment and arguments, closed stdin, no preopened
/// directories, no network; stdout/stderr go to the log, within the call's output `budget`.
pub fn context(budget: &Arc<OutputBudget>) -> WasiCtx {
    WasiCtxBuilder::new()
        .stdout(LogStream {
            budget: budget.clone(),
            stream: "stdout",
        })
        .stderr(LogStream {
            budget: budget.clone(),
            stream: "stderr",
        })
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .build()
}

/// Guest stdout or stderr, written to the log line by line.
struct LogStream {
    budget: Arc<OutputBudget>,
    stream: &'static str,
}

impl IsTerminal for LogStream {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for LogStream {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(LineWriter {
            budget: self.budget.clone(),
            stream: self.stream,
            buffer: Vec::new(),
        })
    }
}

struct LineWriter {
    budget: Arc<OutputBudget>,
    stream: &'static str,
    /// At most [`MAX_LINE`] bytes: a longer run without a newline is emitted as a line.
    buffer: Vec<u8>,
}

impl LineWriter {
    fn emit(&mut self, line: &[u8]) {
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches(['\r', '\n']);
        if !text.is_empty() {
            self.budget.emit(Level::Info, self.stream, text);
        }
    }

    fn drain_lines(&mut self) {
        while let Some(end) = self.buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.buffer.drain(..=end).collect();
            self.emit(&line);
        }
        while self.buffer.len() >= MAX_LINE {
            let line: Vec<u8> = self.buffer.drain(..MAX_LINE).collect();
            self.emit(&line);
        }
    }
}

impl tokio::io::AsyncWrite for LineWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.budget.exhausted() {
            // Nothing more reaches the log in this call: count it, do not buffer or decode it.
            self.buffer.clear();
            let lines = buf.iter().filter(|&&b| b == b'\n').count();
            self.budget.drop_unread(
                u32::try_from(lines).unwrap_or(u32::MAX),
                u64::try_from(buf.len()).unwrap_or(u64::MAX),
            );
            return Poll::Ready(Ok(buf.len()));
        }
        // Taken in pieces no larger than a line, so the buffer never grows past one line
        // whatever the guest writes at once.
        let take = buf.len().min(MAX_LINE);
        self.buffer.extend_from_slice(&buf[..take]);
        self.drain_lines();
        Poll::Ready(Ok(take))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let rest = std::mem::take(&mut self.buffer);
        self.emit(&rest);
        Poll::Ready(Ok(()))
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        let rest = std::mem::take(&mut self.buffer);
        self.emit(&rest);
    }
}
