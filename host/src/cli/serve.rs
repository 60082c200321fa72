//! `jack-pms serve`.

use crate::app::{App, start_mock_pms};
use crate::config::Config;
use crate::sync::scheduler::SchedulerOptions;
use anyhow::Context;
use std::path::Path;
use std::process::ExitCode;

pub fn run(config_path: &Path, listen: Option<&str>) -> anyhow::Result<ExitCode> {
    let config = Config::load(config_path)?;
    let addr: std::net::SocketAddr = match listen {
        Some(l) => l
            .parse()
            .with_context(|| format!("--listen `{l}` is not an address such as 127.0.0.1:8080"))?,
        None => config.server.listen,
    };
    super::tokio_runtime()?.block_on(async move {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        start_mock_pms(&config, stopped(stop_rx.clone())).await?;
        let mut app = App::build(&config).await?;
        let reloader = app.enable_reload(config_path);
        tokio::spawn(reload_on_hangup(reloader));
        let _heartbeat = app.cluster.spawn_heartbeat();
        let cluster = app.cluster.clone();
        app.service.recover_interrupted().await?;
        app.service.spawn_replay(stopped(stop_rx.clone()));
        let _scheduler = app.start_sync(SchedulerOptions::default())?;
        let webhooks = app.start_webhooks(&config).await?;
        // Outages longer than `events.pmsDownAlertAfterSecs` become staff alerts.
        crate::events::alerts::PmsDownWatch::new(
            app.service.tracker().log().clone(),
            config.events.pms_down_alert_after,
        )
        .spawn(stopped(stop_rx.clone()));
        for hotel in app.service.hotels() {
            match &hotel.problem {
                None => tracing::info!(hotel = %hotel.id, adapter = %hotel.adapter, "hotel ready"),
                Some(p) => tracing::error!(hotel = %hotel.id, adapter = %hotel.adapter, problem = %p, "hotel unavailable"),
            }
        }
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
        tracing::info!(addr = %listener.local_addr()?, "jack-pms API listening");
        tokio::spawn(async move {
            shutdown_signal().await;
            tracing::info!("shutting down");
            let _ = stop_tx.send(true);
        });
        app.serve(listener, stopped(stop_rx)).await?;
        // A clean stop: deliveries under way finish and their cursors are saved and released,
        // and the other hosts take this one's hotels and receivers over at once.
        if let Some(webhooks) = webhooks {
            webhooks.shutdown().await;
        }
        cluster.leave().await;
        Ok(ExitCode::SUCCESS)
    })
}

/// SIGHUP re-reads the config's hotels, as `POST /v1/admin/reload` does.
async fn reload_on_hangup(reloader: std::sync::Arc<crate::app::Reloader>) {
    #[cfg(unix)]
    {
        let Ok(mut hangups) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            tracing::warn!("cannot listen for SIGHUP; reload with POST /v1/admin/reload");
            return;
        };
        while hangups.recv().await.is_some() {
            if let Err(e) = reloader.reload().await {
                tracing::error!(error = %e, "SIGHUP: the config was not reloaded; the running one stays");
            }
        }
    }
    #[cfg(not(unix))]
    let _ = reloader;
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
