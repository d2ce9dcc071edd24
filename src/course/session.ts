/**
 * Whether a session may join a course: the rule `edn run --course` and the app's `courseSession`
 * call share. A course takes sessions of its own patient, on its own protocol (by id: a clinic may
 * revise its copy, and each session records the version it ran), while it is planned or active.
 */
import type { Course } from './store.js';

/** Why a session of `patientRef` on `protocolId` cannot join `course`, or undefined when it can. */
export function courseFitProblem(course: Pick<Course, 'id' | 'status' | 'statusReason' | 'patientRef' | 'protocol'>, patientRef: string, protocolId: string): string | undefined {
  if (course.status === 'completed' || course.status === 'stopped') return `course ${course.id} is ${course.status}${course.statusReason ? ` (${course.statusReason})` : ''}`;
  if (course.patientRef !== patientRef) return `course ${course.id} is patient ${course.patientRef}'s, the screening is ${patientRef}'s`;
  if (course.protocol.id !== protocolId) return `course ${course.id} is on protocol ${course.protocol.id}, not ${protocolId}`;
  return undefined;
}
