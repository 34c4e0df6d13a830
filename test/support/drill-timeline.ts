// A drill's timeline as a reader pictures one, for the HTML report's tests: the lab's cluster (two
// directors lvs-master and lvs-backup, two real servers web1 and web2, a client), 60 s long, a
// request every half second answered in turn by web1 and web2. At 10 s lvs-master's heartbeat
// stops: lvs-backup notices at 19 s (detection 9 s) and has the VIP with a complete table at 44 s
// (takeover 25 s); the requests from 11 s to 18.5 s fail (16 of them). lvs-master is unreadable
// from 30 s to 34 s. heartbeat starts again at 48 s; both directors hold the VIP from 50 s to
// 53 s (a split brain, two more failed requests), then lvs-master alone: settled at 55 s.
import type { DrillTimeline, TimelineRequest } from '../../src/verify/timeline.ts';

export const FIXTURE_START = Date.UTC(2026, 11, 4, 12, 0, 0);
const at = (seconds: number) => FIXTURE_START + seconds * 1000;

/** The requests the fixture's failover window (10 s → 44 s) holds that failed. */
export const FIXTURE_FAILED_IN_WINDOW = 16;

function requests(): TimelineRequest[] {
  const list: TimelineRequest[] = [];
  for (let i = 1; i < 120; i++) {
    const seconds = i / 2;
    const ok = !((seconds >= 11 && seconds <= 18.5) || seconds === 50.5 || seconds === 51);
    list.push(ok ? { at: at(seconds), ok, server: i % 2 === 0 ? 'web1' : 'web2' } : { at: at(seconds), ok });
  }
  // One answer whose page did not say which server sent it.
  list.push({ at: at(5.25), ok: true });
  return list.sort((a, b) => a.at - b.at);
}

export function fixtureTimeline(): DrillTimeline {
  return {
    cluster: 'lab',
    vip: '10.213.2.254',
    url: 'http://10.213.2.254/',
    client: 'client1',
    directors: ['lvs-master', 'lvs-backup'],
    realServers: ['web1', 'web2'],
    startedAt: at(0),
    endedAt: at(60),
    requests: requests(),
    directorReadings: [
      { at: at(0), holders: ['lvs-master'], unreachable: [] },
      { at: at(11), holders: [], unreachable: [] },
      { at: at(19), holders: ['lvs-backup'], unreachable: [] },
      { at: at(30), holders: ['lvs-backup'], unreachable: ['lvs-master'] },
      { at: at(34), holders: ['lvs-backup'], unreachable: [] },
      { at: at(50), holders: ['lvs-master', 'lvs-backup'], unreachable: [] },
      { at: at(53), holders: ['lvs-master'], unreachable: [] },
    ],
    faults: [
      {
        name: 'manager',
        subject: 'lvs-master',
        what: 'heartbeat stopped on lvs-master',
        sentAt: at(10),
        detectedAt: at(19),
        tookOverAt: at(44),
        undoneAt: at(48),
        settledAt: at(55),
      },
    ],
    checks: [
      {
        check: 'drill failover (manager stops)',
        subject: 'lvs-master',
        status: 'pass',
        detail: 'heartbeat stopped on lvs-master; lvs-backup held the VIP after 9.0 s; its IPVS table was complete after 34.0 s; 16 of 68 requests failed, answers stopped for 8.0 s',
        evidence: [{ host: 'lvs-backup', command: 'ipvsadm -Sn', output: '-A -t 10.213.2.254:80 -s rr\n-a -t 10.213.2.254:80 -r 10.213.2.11:80 -g -w 1' }],
      },
      {
        check: 'drill failback',
        subject: 'lvs-master',
        status: 'fail',
        detail: 'lvs-master back; it took the VIP back after 7.0 s, as the description says; 2 of 24 requests failed, answers stopped for 1.0 s',
        evidence: [],
      },
      { check: 'drill restored', subject: 'lab', status: 'pass', detail: 'lvs-master holds the VIP with a complete table and answers', evidence: [] },
    ],
  };
}
