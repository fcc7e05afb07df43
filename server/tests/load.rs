//! Many simultaneous clients, each with byte-exact results.

mod raw_client;

use ferry_testkit::TestServer;
use raw_client::Client;
use std::sync::Arc;
use tokio::sync::Barrier;

const CLIENTS: usize = 500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_concurrent_clients_list_store_retrieve() {
    raw_client::raise_open_file_limit();
    let server = TestServer::start().await;
    let addr = server.addr;
    // Everyone connects first, so all of them are open at the same time.
    let barrier = Arc::new(Barrier::new(CLIENTS));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..CLIENTS {
        let barrier = Arc::clone(&barrier);
        tasks.spawn(async move {
            let mut client = Client::connect(addr).await;
            barrier.wait().await;
            let name = format!("client {i} ünï");
            let content: Vec<u8> = (0..1000 + i * 37).map(|j| (i * 31 + j * 7) as u8).collect();
            client.list().await;
            let stored = client.store(&name, &content).await;
            assert_eq!(stored.code, 226, "{name}: {stored}");
            let back = client.retrieve(&name).await.unwrap();
            assert!(back == content, "{name}: content differs");
            assert_eq!(client.command("QUIT").await.code, 221);
            (name, content)
        });
    }
    let mut expected = Vec::new();
    while let Some(result) = tasks.join_next().await {
        expected.push(result.unwrap());
    }
    let mut client = Client::connect(server.addr).await;
    let listing = client.list().await;
    assert_eq!(listing.len(), CLIENTS);
    for (name, content) in expected {
        assert_eq!(std::fs::read(server.path(&name)).unwrap(), content);
        let entry = listing.iter().find(|e| e.name.as_str() == name).unwrap();
        assert_eq!(entry.size(), Some(content.len() as u64));
    }
    assert!(server.temp_entries().is_empty());
}
