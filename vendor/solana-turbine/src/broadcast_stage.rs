//! A stage to broadcast data from a leader node to validators
#![allow(clippy::rc_buffer)]
use {
    self::{
        broadcast_duplicates_run::{BroadcastDuplicatesConfig, BroadcastDuplicatesRun},
        broadcast_metrics::*,
        standard_broadcast_run::StandardBroadcastRun,
    },
    crate::{
        XdpSender,
        cluster_nodes::{ClusterNodes, ClusterNodesCache},
    },
    agave_votor::event::VotorEventSender,
    crossbeam_channel::{
        Receiver, RecvError, RecvTimeoutError, SendError, Sender, TrySendError, bounded,
    },
    itertools::Itertools,
    solana_clock::Slot,
    solana_gossip::{
        cluster_info::{ClusterInfo, ClusterInfoError},
        contact_info::Protocol,
    },
    solana_keypair::Keypair,
    solana_leader_schedule::NUM_CONSECUTIVE_LEADER_SLOTS,
    solana_ledger::{
        blockstore::Blockstore,
        leader_schedule_cache::LeaderScheduleCache,
        shred::{MAX_FEC_SETS_PER_SLOT, Shred},
    },
    solana_measure::measure::Measure,
    solana_metrics::inc_new_counter_error,
    solana_net_utils::SocketAddrSpace,
    solana_poh::poh_recorder::WorkingBankEntryOrMarker,
    solana_pubkey::Pubkey,
    solana_runtime::{bank::MAX_LEADER_SCHEDULE_STAKES, bank_forks::BankForks},
    solana_streamer::sendmmsg::{SendPktsError, batch_send},
    solana_time_utils::{AtomicInterval, timestamp},
    std::{
        collections::{HashMap, HashSet},
        net::{SocketAddr, UdpSocket},
        sync::{
            Arc, Mutex, RwLock,
            atomic::{AtomicBool, Ordering},
        },
        thread::{self, Builder, JoinHandle},
        time::{Duration, Instant},
    },
    thiserror::Error,
};

pub mod broadcast_duplicates_run;
pub mod broadcast_metrics;
pub(crate) mod broadcast_utils;
pub(crate) mod standard_broadcast_run;

const _: () = const {
    // From https://github.com/anza-xyz/agave/pull/1735#discussion_r1644899183:
    // 1. There must be at least two epochs because near an epoch boundary you might receive
    //    shreds from the other side of the epoch boundary.
    // 2. It does not make sense to have capacity more than the number of epoch-stakes in Bank.
    assert!(CLUSTER_NODES_CACHE_NUM_EPOCH_CAP >= 2);
    assert!(CLUSTER_NODES_CACHE_NUM_EPOCH_CAP <= MAX_LEADER_SCHEDULE_STAKES as usize);
};
const CLUSTER_NODES_CACHE_NUM_EPOCH_CAP: usize = MAX_LEADER_SCHEDULE_STAKES as usize;
const CLUSTER_NODES_CACHE_TTL: Duration = Duration::from_secs(5);

// Capacity in batches. One batch typically packs 1-2 FEC sets worth of bytes
// (see get_target_batch_bytes_default), so this is at least 4 slots' worth of
// broadcast traffic. Filling the channel means the consumer (blockstore record
// or socket transmit) has fallen at least 4 slots behind, which means we've
// been skipped already.
const BROADCAST_CHANNEL_CAPACITY: usize = MAX_FEC_SETS_PER_SLOT as usize * 4;

pub(crate) type RecordReceiver = Receiver<(Arc<Vec<Shred>>, Option<BroadcastShredBatchInfo>)>;
pub(crate) type TransmitReceiver = Receiver<(Arc<Vec<Shred>>, Option<BroadcastShredBatchInfo>)>;

/// Try to send into a bounded channel. If the channel is full,
/// log an error and fall back to a blocking send so shreds are not dropped.
/// A full channel means there is something very wrong with our node,
/// so we want a loud signal but must preserve shreds so the validator
/// does not start repairing its own blocks.
fn try_send_or_block<T>(
    sender: &Sender<T>,
    msg: T,
    channel_name: &str,
) -> std::result::Result<(), SendError<T>> {
    match sender.try_send(msg) {
        Ok(()) => Ok(()),
        Err(TrySendError::Full(msg)) => {
            error!("The channel to {channel_name} is full, node is resource starved!");
            sender.send(msg)
        }
        Err(TrySendError::Disconnected(msg)) => Err(SendError(msg)),
    }
}

/// Fan a batch of shreds out to both the blockstore record path and the
/// network transmit path. Each leg uses [`try_send_or_block`] so any full
/// channel is logged loudly but never drops shreds.
#[allow(clippy::type_complexity)]
pub(crate) fn dispatch_shreds(
    blockstore_sender: &Sender<(Arc<Vec<Shred>>, Option<BroadcastShredBatchInfo>)>,
    socket_sender: &Sender<(Arc<Vec<Shred>>, Option<BroadcastShredBatchInfo>)>,
    shreds: Arc<Vec<Shred>>,
    batch_info: Option<BroadcastShredBatchInfo>,
) -> std::result::Result<(), SendError<(Arc<Vec<Shred>>, Option<BroadcastShredBatchInfo>)>> {
    try_send_or_block(
        blockstore_sender,
        (shreds.clone(), batch_info.clone()),
        "blockstore",
    )?;
    try_send_or_block(socket_sender, (shreds, batch_info), "network egress")
}

#[derive(Debug, Error)]
pub enum Error {
    #[error(transparent)]
    Blockstore(#[from] solana_ledger::blockstore::BlockstoreError),
    #[error(transparent)]
    ClusterInfo(#[from] solana_gossip::cluster_info::ClusterInfoError),
    #[error("Duplicate slot broadcast: {0}")]
    DuplicateSlotBroadcast(Slot),
    #[error("Invalid Merkle root, slot: {slot}, index: {index}")]
    InvalidMerkleRoot { slot: Slot, index: u64 },
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Recv(#[from] crossbeam_channel::RecvError),
    #[error(transparent)]
    RecvTimeout(#[from] crossbeam_channel::RecvTimeoutError),
    #[error("Xdp channel full")]
    XdpChannelFull,
    #[error("Send")]
    Send,
    #[error(transparent)]
    Serialize(#[from] wincode::WriteError),
    #[error("Shred not found, slot: {slot}, index: {index}")]
    ShredNotFound { slot: Slot, index: u64 },
    #[error(transparent)]
    TransportError(#[from] solana_transaction_error::TransportError),
    #[error("Unknown last index, slot: {0}")]
    UnknownLastIndex(Slot),
    #[error("Unknown slot meta, slot: {0}")]
    UnknownSlotMeta(Slot),
}

type Result<T> = std::result::Result<T, Error>;

#[derive(Debug, PartialEq, Eq, Clone)]
pub enum BroadcastStageReturnType {
    ChannelDisconnected,
}

#[derive(Clone, Debug)]
pub enum BroadcastStageType {
    Standard,
    BroadcastDuplicates(BroadcastDuplicatesConfig),
}

impl BroadcastStageType {
    #[allow(clippy::too_many_arguments)]
    pub fn new_broadcast_stage(
        &self,
        sock: Vec<UdpSocket>,
        cluster_info: Arc<ClusterInfo>,
        receiver: Receiver<WorkingBankEntryOrMarker>,
        retransmit_slots_receiver: Receiver<Slot>,
        exit_sender: Arc<AtomicBool>,
        blockstore: Arc<Blockstore>,
        bank_forks: Arc<RwLock<BankForks>>,
        leader_schedule_cache: Arc<LeaderScheduleCache>,
        shred_version: u16,
        xdp_sender: Option<XdpSender>,
        votor_event_sender: VotorEventSender,
    ) -> BroadcastStage {
        let migration_status = bank_forks.read().unwrap().migration_status();
        match self {
            BroadcastStageType::Standard => BroadcastStage::new(
                sock,
                cluster_info,
                receiver,
                retransmit_slots_receiver,
                exit_sender,
                blockstore,
                bank_forks,
                StandardBroadcastRun::new(
                    shred_version,
                    migration_status,
                    votor_event_sender,
                    leader_schedule_cache,
                ),
                xdp_sender,
            ),

            BroadcastStageType::BroadcastDuplicates(config) => BroadcastStage::new(
                sock,
                cluster_info,
                receiver,
                retransmit_slots_receiver,
                exit_sender,
                blockstore,
                bank_forks,
                BroadcastDuplicatesRun::new(
                    shred_version,
                    config.clone(),
                    migration_status,
                    votor_event_sender,
                ),
                xdp_sender,
            ),
        }
    }
}

trait BroadcastRun {
    fn run(
        &mut self,
        keypair: &Keypair,
        blockstore: &Blockstore,
        receiver: &Receiver<WorkingBankEntryOrMarker>,
        socket_sender: &Sender<(Arc<Vec<Shred>>, Option<BroadcastShredBatchInfo>)>,
        blockstore_sender: &Sender<(Arc<Vec<Shred>>, Option<BroadcastShredBatchInfo>)>,
    ) -> Result<()>;
    fn transmit(
        &mut self,
        receiver: &TransmitReceiver,
        cluster_info: &ClusterInfo,
        sock: BroadcastSocket,
        bank_forks: &RwLock<BankForks>,
    ) -> Result<()>;
    fn record(&mut self, receiver: &RecordReceiver, blockstore: &Blockstore) -> Result<()>;
}

// Implement a destructor for the BroadcastStage thread to signal it exited
// even on panics
struct Finalizer {
    exit_sender: Arc<AtomicBool>,
}

impl Finalizer {
    fn new(exit_sender: Arc<AtomicBool>) -> Self {
        Finalizer { exit_sender }
    }
}
// Implement a destructor for Finalizer.
impl Drop for Finalizer {
    fn drop(&mut self) {
        self.exit_sender.clone().store(true, Ordering::Relaxed);
    }
}

pub struct BroadcastStage {
    thread_hdls: Vec<JoinHandle<BroadcastStageReturnType>>,
}

impl BroadcastStage {
    #[allow(clippy::too_many_arguments)]
    fn run(
        cluster_info: Arc<ClusterInfo>,
        blockstore: &Blockstore,
        receiver: &Receiver<WorkingBankEntryOrMarker>,
        socket_sender: &Sender<(Arc<Vec<Shred>>, Option<BroadcastShredBatchInfo>)>,
        blockstore_sender: &Sender<(Arc<Vec<Shred>>, Option<BroadcastShredBatchInfo>)>,
        mut broadcast_stage_run: impl BroadcastRun,
    ) -> BroadcastStageReturnType {
        loop {
            let res = broadcast_stage_run.run(
                &cluster_info.keypair(),
                blockstore,
                receiver,
                socket_sender,
                blockstore_sender,
            );
            let res = Self::handle_error(res, "run");
            if let Some(res) = res {
                return res;
            }
        }
    }
    fn handle_error(r: Result<()>, name: &str) -> Option<BroadcastStageReturnType> {
        if let Err(e) = r {
            match e {
                Error::RecvTimeout(RecvTimeoutError::Disconnected)
                | Error::Send
                | Error::Recv(RecvError) => {
                    return Some(BroadcastStageReturnType::ChannelDisconnected);
                }
                Error::RecvTimeout(RecvTimeoutError::Timeout)
                | Error::ClusterInfo(ClusterInfoError::NoPeers) => (), // TODO: Why are the unit-tests throwing hundreds of these?
                _ => {
                    inc_new_counter_error!("streamer-broadcaster-error", 1, 1);
                    error!("{name} broadcaster error: {e:?}");
                }
            }
        }
        None
    }

    /// Service to broadcast messages from the leader to layer 1 nodes.
    /// See `cluster_info` for network layer definitions.
    /// # Arguments
    /// * `sock` - Socket to send from.
    /// * `exit` - Boolean to signal system exit.
    /// * `cluster_info` - ClusterInfo structure
    /// * `window` - Cache of Shreds that we have broadcast
    /// * `receiver` - Receive channel for Shreds to be retransmitted to all the layer 1 nodes.
    /// * `exit_sender` - Set to true when this service exits, allows rest of Tpu to exit cleanly.
    ///
    /// Otherwise, when a Tpu closes, it only closes the stages that come after it. The stages
    /// that come before could be blocked on a receive, and never notice that they need to
    /// exit. Now, if any stage of the Tpu closes, it will lead to closing the WriteStage (b/c
    /// WriteStage is the last stage in the pipeline), which will then close Broadcast service,
    /// which will then close FetchStage in the Tpu, and then the rest of the Tpu,
    /// completing the cycle.
    #[allow(clippy::too_many_arguments)]
    fn new(
        socks: Vec<UdpSocket>,
        cluster_info: Arc<ClusterInfo>,
        receiver: Receiver<WorkingBankEntryOrMarker>,
        retransmit_slots_receiver: Receiver<Slot>,
        exit: Arc<AtomicBool>,
        blockstore: Arc<Blockstore>,
        bank_forks: Arc<RwLock<BankForks>>,
        mut broadcast_stage_run: impl BroadcastRun + Send + 'static + Clone,
        xdp_sender: Option<XdpSender>,
    ) -> Self {
        let (socket_sender, socket_receiver) = bounded(BROADCAST_CHANNEL_CAPACITY);
        let (blockstore_sender, blockstore_receiver) = bounded(BROADCAST_CHANNEL_CAPACITY);
        let bs_run = broadcast_stage_run.clone();

        let socket_sender_ = socket_sender.clone();
        let thread_hdl = {
            let blockstore = blockstore.clone();
            let cluster_info = cluster_info.clone();
            Builder::new()
                .name("solBroadcast".to_string())
                .spawn(move || {
                    let _finalizer = Finalizer::new(exit);
                    Self::run(
                        cluster_info,
                        &blockstore,
                        &receiver,
                        &socket_sender_,
                        &blockstore_sender,
                        bs_run,
                    )
                })
                .unwrap()
        };
        let mut thread_hdls = vec![thread_hdl];
        let num_broadcast_sockets_per_interface = socks.len() / cluster_info.bind_ip_addrs().len();
        let num_interfaces: usize = cluster_info.bind_ip_addrs().len();

        // Partition by interface
        // With 2 interfaces and the default of 4 sockets per interface, `sockets_by_interface` is:
        // sockets_by_interface = [[s0, s1, s2, s3], [s4, s5, s6, s7]]
        let mut it = socks.into_iter();
        let sockets_by_interface: Vec<Vec<UdpSocket>> = (0..num_interfaces)
            .map(|_| {
                it.by_ref()
                    .take(num_broadcast_sockets_per_interface)
                    .collect()
            })
            .collect();

        let mut iters: Vec<_> = sockets_by_interface
            .into_iter()
            .map(|sockets| sockets.into_iter())
            .collect();

        // Spawn `num_broadcast_sockets_per_interface` threads
        // Each thread gets a socket from each interface (i.e. 2 sockets per thread if multihomed w/ 2 interfaces)
        thread_hdls.extend((0..num_broadcast_sockets_per_interface).map(|_| {
            let mut group = Vec::with_capacity(num_interfaces);
            for it in &mut iters {
                group.push(it.next().expect("aligned lengths"));
            }

            let socket_receiver = socket_receiver.clone();
            let mut bs_transmit = broadcast_stage_run.clone();
            let cluster_info = cluster_info.clone();
            let bank_forks = bank_forks.clone();
            let xdp_sender = xdp_sender.clone();
            let run_transmit = move || loop {
                let sock_variant = match xdp_sender.as_ref() {
                    Some(xdp) => BroadcastSocket::Xdp(xdp),
                    None => {
                        let active_index = cluster_info.bind_ip_addrs().active_index();
                        let active_socket = &group[active_index];
                        BroadcastSocket::Udp(active_socket)
                    }
                };
                let res = bs_transmit.transmit(
                    &socket_receiver,
                    &cluster_info,
                    sock_variant,
                    &bank_forks,
                );
                if let Some(res) = Self::handle_error(res, "solana-broadcaster-transmit") {
                    return res;
                }
            };
            Builder::new()
                .name("solBroadcastTx".to_string())
                .spawn(run_transmit)
                .unwrap()
        }));

        // Blockstore::insert_threads() obtains and holds a write lock for the entire function.
        // Until this changes, only a single inserter thread is necessary.
        thread_hdls.push({
            let blockstore = blockstore.clone();
            let run_record = move || loop {
                let res = broadcast_stage_run.record(&blockstore_receiver, &blockstore);
                let res = Self::handle_error(res, "solana-broadcaster-record");
                if let Some(res) = res {
                    return res;
                }
            };
            Builder::new()
                .name("solBroadcastRec".to_string())
                .spawn(run_record)
                .unwrap()
        });

        let retransmit_thread = Builder::new()
            .name("solBroadcastRtx".to_string())
            .spawn(move || {
                loop {
                    if let Some(res) = Self::handle_error(
                        Self::check_retransmit_signals(
                            &blockstore,
                            &retransmit_slots_receiver,
                            &socket_sender,
                        ),
                        "solana-broadcaster-retransmit-check_retransmit_signals",
                    ) {
                        return res;
                    }
                }
            })
            .unwrap();

        thread_hdls.push(retransmit_thread);
        Self { thread_hdls }
    }

    fn check_retransmit_signals(
        blockstore: &Blockstore,
        retransmit_slots_receiver: &Receiver<Slot>,
        socket_sender: &Sender<(Arc<Vec<Shred>>, Option<BroadcastShredBatchInfo>)>,
    ) -> Result<()> {
        const RECV_TIMEOUT: Duration = Duration::from_millis(100);
        let retransmit_slots: HashSet<Slot> =
            std::iter::once(retransmit_slots_receiver.recv_timeout(RECV_TIMEOUT)?)
                .chain(retransmit_slots_receiver.try_iter())
                .collect();

        for new_retransmit_slot in retransmit_slots {
            let data_shreds = Arc::new(
                blockstore
                    .get_data_shreds_for_slot(new_retransmit_slot, 0)
                    .expect("My own shreds must be reconstructable"),
            );
            debug_assert!(
                data_shreds
                    .iter()
                    .all(|shred| shred.slot() == new_retransmit_slot)
            );
            if !data_shreds.is_empty() {
                try_send_or_block(socket_sender, (data_shreds, None), "network egress")?;
            }

            let coding_shreds = Arc::new(
                blockstore
                    .get_coding_shreds_for_slot(new_retransmit_slot, 0)
                    .expect("My own shreds must be reconstructable"),
            );

            debug_assert!(
                coding_shreds
                    .iter()
                    .all(|shred| shred.slot() == new_retransmit_slot)
            );
            if !coding_shreds.is_empty() {
                try_send_or_block(socket_sender, (coding_shreds, None), "network egress")?;
            }
        }

        Ok(())
    }

    pub fn join(self) -> thread::Result<BroadcastStageReturnType> {
        for thread_hdl in self.thread_hdls.into_iter() {
            let _ = thread_hdl.join();
        }
        Ok(BroadcastStageReturnType::ChannelDisconnected)
    }
}

fn update_peer_stats(
    cluster_nodes: &ClusterNodes<BroadcastStage>,
    last_datapoint_submit: &AtomicInterval,
) {
    if last_datapoint_submit.should_update(1000) {
        cluster_nodes.submit_metrics("cluster_nodes_broadcast", timestamp());
    }
}

#[derive(Clone, Copy)]
pub enum BroadcastSocket<'a> {
    Udp(&'a UdpSocket),
    Xdp(&'a XdpSender),
}

/// Returns the pubkey of the next leader after `slot`, or None if it is us.
fn next_broadcast_leader_pubkey(
    leader_schedule_cache: &LeaderScheduleCache,
    working_bank: &solana_runtime::bank::Bank,
    my_pubkey: &Pubkey,
    slot: Slot,
) -> Option<Pubkey> {
    let next_leader_slot = slot.saturating_add(NUM_CONSECUTIVE_LEADER_SLOTS.get() as Slot);
    leader_schedule_cache
        .slot_leader_at(next_leader_slot, Some(working_bank))
        .map(|next_leader| next_leader.id)
        .filter(|next_leader_id| next_leader_id != my_pubkey)
}

/// Broadcasts shreds from the leader (i.e. this node) to the root of the
/// turbine retransmit tree for each shred.
pub fn broadcast_shreds(
    socket: BroadcastSocket,
    shreds: &[Shred],
    cluster_nodes_cache: &ClusterNodesCache<BroadcastStage>,
    last_datapoint_submit: &AtomicInterval,
    transmit_stats: &mut TransmitShredsStats,
    cluster_info: &ClusterInfo,
    bank_forks: &RwLock<BankForks>,
    leader_schedule_cache: &LeaderScheduleCache,
    socket_addr_space: &SocketAddrSpace,
) -> Result<()> {
    let mut result = Ok(());
    // Compute destinations for each of the shreds to be sent
    let mut shred_select = Measure::start("shred_select");
    let (root_bank, working_bank) = {
        let bank_forks = bank_forks.read().unwrap();
        (bank_forks.root_bank(), bank_forks.working_bank())
    };
    let my_pubkey = cluster_info.id();
    // Helper to find the next leader's pubkey (None if it is us)
    let find_next_leader = |slot: Slot| -> Option<Pubkey> {
        next_broadcast_leader_pubkey(leader_schedule_cache, &working_bank, &my_pubkey, slot)
    };

    let packets: Vec<_> = shreds
        .iter()
        .chunk_by(|shred| shred.slot())
        .into_iter()
        .flat_map(|(slot, shreds)| {
            let cluster_nodes =
                cluster_nodes_cache.get(slot, &root_bank, &working_bank, cluster_info);
            update_peer_stats(&cluster_nodes, last_datapoint_submit);
            let maybe_next_leader_udp = find_next_leader(slot).and_then(|leader| {
                cluster_info
                    .lookup_contact_info(&leader, |node| {
                        node.tvu(Protocol::UDP)
                            .filter(|addr| !addr.is_ipv6() && socket_addr_space.check(addr))
                    })
                    .flatten()
            });
            shreds.flat_map(move |shred| {
                let key = shred.id();
                let maybe_standard_broadcast_peer = cluster_nodes
                    .get_broadcast_peer(&key)
                    .and_then(|ci| ci.tvu(Protocol::UDP))
                    .filter(|addr| !addr.is_ipv6() && socket_addr_space.check(addr));
                // only send to next leader if not standard broadcast peer
                let maybe_next_leader = maybe_next_leader_udp
                    .filter(|addr| Some(*addr) != maybe_standard_broadcast_peer);
                [maybe_next_leader, maybe_standard_broadcast_peer]
                    .into_iter()
                    .filter_map(move |tvu_addr: Option<SocketAddr>| {
                        tvu_addr.map(|addr| (shred.payload(), addr))
                    })
            })
        })
        .collect();

    shred_select.stop();
    transmit_stats.shred_select += shred_select.as_us();
    let num_udp_packets = packets.len();
    match socket {
        BroadcastSocket::Udp(s) => {
            let mut send_mmsg_time = Measure::start("send_mmsg");
            match batch_send(s, packets) {
                Ok(()) => (),
                Err(SendPktsError::IoError(ioerr, num_failed)) => {
                    transmit_stats.dropped_packets_udp += num_failed;
                    result = Err(Error::Io(ioerr));
                }
            }
            send_mmsg_time.stop();
            transmit_stats.send_mmsg_elapsed += send_mmsg_time.as_us();
        }
        BroadcastSocket::Xdp(s) => {
            let mut send_xdp_time = Measure::start("send_xdp");
            for (idx, (payload, addr)) in packets.into_iter().enumerate() {
                if let Err(e) = s.try_send(idx, addr, payload.bytes.clone()) {
                    log::warn!("xdp channel full: {e:?}");
                    transmit_stats.dropped_packets_xdp += 1;
                    result = Err(Error::XdpChannelFull);
                }
            }
            send_xdp_time.stop();
            transmit_stats.send_xdp_elapsed += send_xdp_time.as_us();
        }
    }

    transmit_stats.total_packets += num_udp_packets;
    result
}

impl<T> From<crossbeam_channel::SendError<T>> for Error {
    fn from(_: crossbeam_channel::SendError<T>) -> Error {
        Error::Send
    }
}

#[cfg(test)]
pub mod test {
    use {
        super::*,
        agave_votor_messages::migration::MigrationStatus,
        crossbeam_channel::bounded,
        rand::Rng,
        solana_entry::{entry::create_ticks, entry_or_marker::EntryOrMarker},
        solana_gossip::{cluster_info::ClusterInfo, node::Node},
        solana_hash::Hash,
        solana_keypair::Keypair,
        solana_leader_schedule::{FixedSchedule, LeaderSchedule, SlotLeader},
        solana_ledger::{
            blockstore::Blockstore,
            genesis_utils::{GenesisConfigInfo, create_genesis_config},
            get_tmp_ledger_path_auto_delete,
            leader_schedule_cache::LeaderScheduleCache,
            shred::{ProcessShredsStats, ReedSolomonCache, Shredder, max_ticks_per_n_shreds},
        },
        solana_runtime::bank::Bank,
        solana_signer::Signer,
        std::{
            num::NonZeroUsize,
            path::Path,
            sync::{Arc, atomic::AtomicBool},
            thread::sleep,
        },
    };

    #[allow(clippy::implicit_hasher)]
    #[allow(clippy::type_complexity)]
    fn make_transmit_shreds(
        slot: Slot,
        num: u64,
    ) -> (
        Vec<Shred>,
        Vec<Shred>,
        Vec<Arc<Vec<Shred>>>,
        Vec<Arc<Vec<Shred>>>,
    ) {
        let num_entries = max_ticks_per_n_shreds(num, None);
        let entries = create_ticks(num_entries, /*hashes_per_tick:*/ 0, Hash::default());
        let shredder = Shredder::new(
            slot, /*parent_slot:*/ 0, /*reference_tick:*/ 0, /*version:*/ 0,
        )
        .unwrap();
        let (data_shreds, coding_shreds) = shredder.entries_to_merkle_shreds_for_tests(
            &Keypair::new(),
            &entries,
            true, // is_last_in_slot
            // chained_merkle_root
            Hash::new_from_array(rand::rng().random()),
            0, // next_shred_index,
            0, // next_code_index
            &ReedSolomonCache::default(),
            &mut ProcessShredsStats::default(),
        );
        (
            data_shreds.clone(),
            coding_shreds.clone(),
            data_shreds
                .into_iter()
                .map(|shred| Arc::new(vec![shred]))
                .collect(),
            coding_shreds
                .into_iter()
                .map(|shred| Arc::new(vec![shred]))
                .collect(),
        )
    }

    fn check_all_shreds_received(
        transmit_receiver: &TransmitReceiver,
        mut data_index: u64,
        mut coding_index: u64,
        num_expected_data_shreds: u64,
        num_expected_coding_shreds: u64,
    ) {
        while let Ok((shreds, _)) = transmit_receiver.try_recv() {
            if shreds[0].is_data() {
                for data_shred in shreds.iter() {
                    assert_eq!(data_shred.index() as u64, data_index);
                    data_index += 1;
                }
            } else {
                assert_eq!(shreds[0].index() as u64, coding_index);
                for coding_shred in shreds.iter() {
                    assert_eq!(coding_shred.index() as u64, coding_index);
                    coding_index += 1;
                }
            }
        }

        assert_eq!(num_expected_data_shreds, data_index);
        assert_eq!(num_expected_coding_shreds, coding_index);
    }

    fn fixed_leader_schedule_cache(
        slot_leaders: Vec<SlotLeader>,
        repeat: usize,
        bank: &Bank,
    ) -> LeaderScheduleCache {
        let mut leader_schedule_cache = LeaderScheduleCache::new_from_bank(bank);
        leader_schedule_cache.set_fixed_leader_schedule(Some(FixedSchedule {
            leader_schedule: Arc::new(LeaderSchedule::new_from_schedule(
                slot_leaders,
                NonZeroUsize::new(repeat).unwrap(),
            )),
        }));
        leader_schedule_cache
    }

    #[test]
    fn test_next_broadcast_leader_pubkey() {
        let leader_a = Keypair::new();
        let leader_b = Keypair::new();
        let GenesisConfigInfo { genesis_config, .. } = create_genesis_config(10_000);
        let bank = Bank::new_for_tests(&genesis_config);
        let leader_schedule_cache = fixed_leader_schedule_cache(
            vec![
                SlotLeader {
                    id: leader_a.pubkey(),
                    vote_address: Pubkey::new_unique(),
                },
                SlotLeader {
                    id: leader_b.pubkey(),
                    vote_address: Pubkey::new_unique(),
                },
            ],
            NUM_CONSECUTIVE_LEADER_SLOTS.get(),
            &bank,
        );

        assert_eq!(
            next_broadcast_leader_pubkey(&leader_schedule_cache, &bank, &leader_a.pubkey(), 0,),
            Some(leader_b.pubkey())
        );
        assert_eq!(
            next_broadcast_leader_pubkey(
                &leader_schedule_cache,
                &bank,
                &leader_b.pubkey(),
                NUM_CONSECUTIVE_LEADER_SLOTS.get() as Slot,
            ),
            Some(leader_a.pubkey())
        );
        assert_eq!(
            next_broadcast_leader_pubkey(
                &leader_schedule_cache,
                &bank,
                &leader_a.pubkey(),
                NUM_CONSECUTIVE_LEADER_SLOTS.get() as Slot,
            ),
            None,
        );
    }

    #[test]
    fn test_duplicate_retransmit_signal() {
        // Setup
        let ledger_path = get_tmp_ledger_path_auto_delete!();
        let blockstore = Arc::new(Blockstore::open(ledger_path.path()).unwrap());
        let (transmit_sender, transmit_receiver) = bounded(1024);
        let (retransmit_slots_sender, retransmit_slots_receiver) = bounded(1024);

        // Make some shreds
        let updated_slot = 0;
        let (all_data_shreds, all_coding_shreds, _, _all_coding_transmit_shreds) =
            make_transmit_shreds(updated_slot, 10);
        let num_data_shreds = all_data_shreds.len();
        let num_coding_shreds = all_coding_shreds.len();
        assert!(num_data_shreds >= 10);

        // Insert all the shreds
        blockstore
            .insert_shreds(all_data_shreds, None, true)
            .unwrap();
        blockstore
            .insert_shreds(all_coding_shreds, None, true)
            .unwrap();

        // Insert duplicate retransmit signal, blocks should
        // only be retransmitted once
        retransmit_slots_sender.send(updated_slot).unwrap();
        retransmit_slots_sender.send(updated_slot).unwrap();
        BroadcastStage::check_retransmit_signals(
            &blockstore,
            &retransmit_slots_receiver,
            &transmit_sender,
        )
        .unwrap();
        // Check all the data shreds were received only once
        check_all_shreds_received(
            &transmit_receiver,
            0,
            0,
            num_data_shreds as u64,
            num_coding_shreds as u64,
        );
    }

    struct MockBroadcastStage {
        blockstore: Arc<Blockstore>,
        broadcast_service: BroadcastStage,
        bank: Arc<Bank>,
    }

    fn setup_dummy_broadcast_service(
        leader_keypair: Arc<Keypair>,
        ledger_path: &Path,
        entry_receiver: Receiver<WorkingBankEntryOrMarker>,
        retransmit_slots_receiver: Receiver<Slot>,
    ) -> MockBroadcastStage {
        // Make the database ledger
        let blockstore = Arc::new(Blockstore::open(ledger_path).unwrap());

        // Make the leader node and scheduler
        let leader_info = Node::new_localhost_with_pubkey(&leader_keypair.pubkey());

        // Make a node to broadcast to
        let buddy_keypair = Keypair::new();
        let broadcast_buddy = Node::new_localhost_with_pubkey(&buddy_keypair.pubkey());

        // Fill the cluster_info with the buddy's info
        let cluster_info = ClusterInfo::new(
            leader_info.info.clone(),
            leader_keypair,
            SocketAddrSpace::Unspecified,
        );
        cluster_info.insert_info(broadcast_buddy.info);
        let cluster_info = Arc::new(cluster_info);

        let exit_sender = Arc::new(AtomicBool::new(false));

        let GenesisConfigInfo { genesis_config, .. } = create_genesis_config(10_000);
        let root_bank = Bank::new_for_tests(&genesis_config);
        root_bank.set_tick_height(root_bank.max_tick_height());
        Bank::calculate_and_set_block_id_for_dcou(&root_bank);
        let bank_forks = BankForks::new_rw_arc(root_bank);
        let root_bank = bank_forks.read().unwrap().root_bank();
        let child_bank =
            Bank::new_from_parent(root_bank.clone(), *root_bank.leader(), root_bank.slot() + 1);
        let bank = bank_forks
            .write()
            .unwrap()
            .insert(child_bank)
            .clone_without_scheduler();

        // Create votor event channel for test
        let (votor_event_sender, _votor_event_receiver) = bounded(100);
        let leader_schedule_cache = Arc::new(LeaderScheduleCache::new_from_bank(
            &bank_forks.read().unwrap().root_bank(),
        ));

        // Start up the broadcast stage
        let broadcast_service = BroadcastStage::new(
            leader_info.sockets.broadcast,
            cluster_info,
            entry_receiver,
            retransmit_slots_receiver,
            exit_sender,
            blockstore.clone(),
            bank_forks,
            StandardBroadcastRun::new(
                0,
                Arc::new(MigrationStatus::default()),
                votor_event_sender,
                leader_schedule_cache,
            ),
            None,
        );

        MockBroadcastStage {
            blockstore,
            broadcast_service,
            bank,
        }
    }

    #[test]
    fn test_broadcast_ledger() {
        agave_logger::setup();
        let ledger_path = get_tmp_ledger_path_auto_delete!();

        // Create the leader scheduler
        let leader_keypair = Arc::new(Keypair::new());

        let (entry_sender, entry_receiver) = bounded(1024);
        let (retransmit_slots_sender, retransmit_slots_receiver) = bounded(1024);
        let broadcast_service = setup_dummy_broadcast_service(
            leader_keypair,
            ledger_path.path(),
            entry_receiver,
            retransmit_slots_receiver,
        );
        let start_tick_height;
        let max_tick_height;
        let ticks_per_slot;
        let num_expected_entries;
        let slot;
        {
            let bank = broadcast_service.bank;
            start_tick_height = bank.tick_height();
            max_tick_height = bank.max_tick_height();
            ticks_per_slot = bank.ticks_per_slot();
            num_expected_entries = (max_tick_height - start_tick_height) as usize;
            slot = bank.slot();
            let ticks = create_ticks(max_tick_height - start_tick_height, 0, Hash::default());
            for (i, tick) in ticks.into_iter().enumerate() {
                entry_sender
                    .send((
                        bank.clone(),
                        (EntryOrMarker::Entry(tick), start_tick_height + i as u64 + 1),
                    ))
                    .expect("Expect successful send to broadcast service");
            }
        }

        trace!(
            "[broadcast_ledger] max_tick_height: {max_tick_height}, start_tick_height: \
             {start_tick_height}, ticks_per_slot: {ticks_per_slot}",
        );

        let mut entries = vec![];
        for _ in 0..10 {
            entries = broadcast_service
                .blockstore
                .get_slot_entries(slot, 0)
                .expect("Expect entries to be present");
            if entries.len() >= num_expected_entries {
                break;
            }
            sleep(Duration::from_millis(1000));
        }

        drop(entry_sender);
        drop(retransmit_slots_sender);
        broadcast_service
            .broadcast_service
            .join()
            .expect("Expect successful join of broadcast service");
        assert_eq!(entries.len(), num_expected_entries);
    }
}
