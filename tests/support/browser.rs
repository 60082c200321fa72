//! A real headless Chromium driven over WebDriver (chromedriver, from Debian's `chromium` and
//! `chromium-driver`, which `.ci/run` installs), at 1280×800.

use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A chromedriver process and a browser session on it; dropping it stops both.
pub struct Browser {
    pub client: fantoccini::Client,
    driver: Child,
}

/// Where the tests look for the browser and its driver (Debian's paths, or the environment's
/// `CHROMIUM` and `CHROMEDRIVER`).
fn paths() -> (String, String) {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let driver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    (chromium, driver)
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session.
    pub async fn start() -> Browser {
        let (chromium, driver_path) = paths();
        assert!(
            std::path::Path::new(&driver_path).exists() && std::path::Path::new(&chromium).exists(),
            "the browser tests need Chromium and chromedriver ({chromium}, {driver_path}): \
             `apt-get install chromium chromium-driver` (.ci/run does), or set CHROMIUM and \
             CHROMEDRIVER"
        );
        let port = super::free_port();
        let driver = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let http = reqwest::Client::new();
        while !http
            .get(format!("{url}/status"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "chromedriver did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,800"],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = fantoccini::ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&url)
            .await
            .expect("a Chromium session");
        client
            .set_window_size(1280, 800)
            .await
            .expect("window size");
        Browser { client, driver }
    }

    /// Ends the browser session (Chromium exits), then chromedriver.
    pub async fn quit(mut self) {
        let client = self.client.clone();
        let _ = client.close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }

    /// Saves a screenshot of the page as `<dir>/<name>.png`.
    pub async fn screenshot(&self, dir: &std::path::Path, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::create_dir_all(dir).expect("screenshot dir");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
