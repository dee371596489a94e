//! Cross-reactor primitives: correct between OS threads on the real backend (a producer on a
//! sub-reactor thread, a consumer on the main one), deterministic in the simulator (the same
//! seed, the same interleaving), and a closed channel or a dropped sender is an error the
//! caller sees, never a hang.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use doppel::group::GroupConfig;
use doppel::reactors;
use doppel::sim::{check_seeds, SimBuilder};
use doppel::sync::{self, oneshot, Notify, Semaphore};

/// A bounded channel across threads: every value arrives once, in order, and the queue never
/// holds more than its capacity.
#[test]
fn a_bounded_channel_between_reactor_threads_keeps_order_and_bounds() {
    let rt = doppel::real::multi(GroupConfig::default().sub_reactors(2).workers(0)).unwrap();
    rt.block_on(async {
        let (tx, mut rx) = sync::channel::<u32>(4);
        let tx2 = tx.clone();
        let a = reactors::spawn_on(1, move || async move {
            for i in 0..5000 {
                tx.send(i).await.expect("receiver alive");
            }
        })
        .unwrap();
        let b = reactors::spawn_on(2, move || async move {
            for i in 0..5000 {
                tx2.send(10_000 + i).await.expect("receiver alive");
            }
        })
        .unwrap();
        let (mut next_a, mut next_b, mut most) = (0, 10_000, 0);
        while let Some(v) = rx.recv().await {
            most = most.max(rx.len());
            if v < 10_000 {
                assert_eq!(v, next_a, "producer a's order");
                next_a += 1;
            } else {
                assert_eq!(v, next_b, "producer b's order");
                next_b += 1;
            }
        }
        assert_eq!((next_a, next_b), (5000, 15_000), "every value, once");
        assert!(most <= 4, "the queue held {most}, over its capacity");
        assert!(a.await.is_ok() && b.await.is_ok());
    });
}

#[test]
fn closed_channels_and_dropped_senders_are_errors_not_hangs() {
    doppel::real::runtime().unwrap().block_on(async {
        let (tx, rx) = sync::channel::<u8>(1);
        drop(rx);
        assert_eq!(tx.send(7).await.unwrap_err().0, 7, "the value comes back");
        let (tx, mut rx) = sync::unbounded::<u8>();
        tx.send(1).await.unwrap();
        drop(tx);
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, None, "every sender gone: end of stream");
        let (tx, rx) = oneshot::channel::<u8>();
        drop(tx);
        assert_eq!(rx.await, Err(oneshot::Canceled));
        let (tx, rx) = oneshot::channel::<u8>();
        drop(rx);
        assert_eq!(tx.send(3), Err(3));
        // A full bounded channel makes `send` wait, and a receive lets it go on.
        let (tx, mut rx) = sync::channel::<u8>(1);
        tx.try_send(1).unwrap();
        assert!(matches!(tx.try_send(2), Err(sync::TrySendError::Full(2))));
        let waiting = doppel::spawn(async move { tx.send(2).await.is_ok() });
        doppel::time::sleep(Duration::from_millis(5)).await;
        assert!(!waiting.is_finished(), "send waits while full");
        assert_eq!(rx.recv().await, Some(1));
        assert!(waiting.await.unwrap());
        assert_eq!(rx.recv().await, Some(2));
    });
}

#[test]
fn notify_and_semaphore_serve_waiters_in_order() {
    doppel::real::runtime().unwrap().block_on(async {
        let n = Arc::new(Notify::new());
        n.notify_one(); // a permit for the next waiter
        n.notified().await;
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let waiters: Vec<_> = (0..3)
            .map(|i| {
                let (n, order) = (n.clone(), order.clone());
                doppel::spawn(async move {
                    n.notified().await;
                    order.lock().unwrap().push(i);
                })
            })
            .collect();
        doppel::time::sleep(Duration::from_millis(1)).await;
        n.notify_one();
        doppel::time::sleep(Duration::from_millis(1)).await;
        n.notify_waiters();
        for w in waiters {
            w.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2]);
        let sem = Semaphore::new(2);
        let busy = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (sem, busy, most) = (sem.clone(), busy.clone(), most.clone());
                doppel::spawn(async move {
                    let _p = sem.acquire().await;
                    let now = busy.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    doppel::time::sleep(Duration::from_millis(1)).await;
                    busy.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(
            most.load(Ordering::SeqCst),
            2,
            "never more than two permits out"
        );
        assert_eq!(sem.available(), 2);
    });
}

/// Ping-pong between two simulated reactors over channels: the interleaving is the seed's,
/// and every seed replays (each run twice and compared).
#[test]
fn cross_reactor_channels_replay_in_the_simulator() {
    let reports = check_seeds(0..50, |seed| {
        let cfg = GroupConfig::default().sub_reactors(2).workers(1);
        SimBuilder::new(seed)
            .host_group("server", "10.0.0.1", cfg, || async {
                let (tx, mut rx) = sync::channel::<u64>(2);
                for r in 1..=2 {
                    let tx = tx.clone();
                    drop(reactors::spawn_on(r, move || async move {
                        for i in 0..20 {
                            let v = reactors::run_blocking(move || i * 3).await.unwrap_or(0);
                            tracing::info!(reactor = r, v, "sending");
                            tx.send(r as u64 * 1000 + v).await.ok();
                        }
                    })?);
                }
                drop(tx);
                let mut sum = 0;
                while let Some(v) = rx.recv().await {
                    sum += v;
                }
                assert_eq!(sum, 2 * 3 * 190 + 20 * 3000);
                std::future::pending::<io::Result<()>>().await
            })
            .client("c", "10.0.1.1", || async {
                doppel::time::sleep(Duration::from_millis(5)).await;
                Ok(())
            })
            .trace(true)
    });
    // Different seeds interleave the reactors differently.
    let orders: std::collections::BTreeSet<String> = reports
        .iter()
        .map(|r| {
            let lines = r.trace.as_ref().unwrap().lines();
            let sends: Vec<String> = lines
                .into_iter()
                .filter(|l| l.contains("sending"))
                .collect();
            assert_eq!(sends.len(), 40, "every send traced");
            sends.join("|")
        })
        .collect();
    assert!(
        orders.len() > 1,
        "every seed interleaved the reactors the same way"
    );
}

/// A sender that gives up while waiting for room leaves the line: the next waiting sender gets
/// the freed slot (a lost wakeup here would deadlock the receiver and the sender on each other).
#[test]
fn a_cancelled_send_passes_its_turn_on() {
    doppel::real::runtime().unwrap().block_on(async {
        let (tx, mut rx) = sync::channel::<u8>(1);
        tx.try_send(0).unwrap();
        let gave_up = doppel::time::timeout(Duration::from_millis(1), tx.send(1)).await;
        assert!(
            gave_up.is_err(),
            "the channel was full: the send waited and timed out"
        );
        let tx2 = tx.clone();
        let waiting = doppel::spawn(async move { tx2.send(2).await.is_ok() });
        doppel::time::sleep(Duration::from_millis(2)).await;
        assert_eq!(rx.recv().await, Some(0));
        let woke = doppel::time::timeout(Duration::from_secs(5), waiting).await;
        assert_eq!(
            woke.map(|r| r.unwrap()),
            Ok(true),
            "the waiting sender got the slot"
        );
        assert_eq!(rx.recv().await, Some(2));
        // Senders are served in arrival order; a newcomer cannot jump the line.
        tx.try_send(3).unwrap();
        let first = doppel::spawn({
            let tx = tx.clone();
            async move { tx.send(4).await.is_ok() }
        });
        doppel::time::sleep(Duration::from_millis(1)).await;
        assert!(matches!(tx.try_send(5), Err(sync::TrySendError::Full(5))));
        assert_eq!(rx.recv().await, Some(3));
        assert!(first.await.unwrap());
        assert_eq!(rx.recv().await, Some(4));
    });
}

/// A waiter woken by `notify_waiters` that gives up does not leave a permit behind.
#[test]
fn notify_waiters_stores_no_permit_even_when_a_waiter_gives_up() {
    doppel::real::runtime().unwrap().block_on(async {
        let n = Arc::new(Notify::new());
        let n2 = n.clone();
        let waiter = doppel::spawn(async move {
            let _ = doppel::time::timeout(Duration::from_millis(50), n2.notified()).await;
        });
        doppel::time::sleep(Duration::from_millis(1)).await;
        n.notify_waiters();
        waiter.abort(); // woken, never polled again: gives up its wake
        let _ = waiter.await;
        let late = doppel::time::timeout(Duration::from_millis(5), n.notified()).await;
        assert!(late.is_err(), "no permit was stored");
    });
}
