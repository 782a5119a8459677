// Command hostpath-provisioner gives the test cluster dynamic
// PersistentVolumes, because nothing else there would bind a claim and pods
// that mount an unbound claim never schedule.
//
// For every claim of a StorageClass whose provisioner is -name it makes a
// directory under -root and a hostPath PersistentVolume pointing at it;
// deleting the volume removes the directory. It also grows a bound volume when
// its claim asks for more, standing in for the external resizer a real CSI
// driver would bring, so that `allowVolumeExpansion: true` means something.
//
// Usage: hostpath-provisioner -kubeconfig FILE -root DIR [-name NAME]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"sigs.k8s.io/sig-storage-lib-external-provisioner/v13/controller"
)

// provisionedByAnnotation is set by the provisioning library on every volume
// it creates; the resizer uses it to touch only volumes of this provisioner.
const provisionedByAnnotation = "pv.kubernetes.io/provisioned-by"

// hostPathProvisioner keeps every volume in its own directory under root.
type hostPathProvisioner struct {
	root string
}

func (p *hostPathProvisioner) Provision(ctx context.Context, options controller.ProvisionOptions) (*v1.PersistentVolume, controller.ProvisioningState, error) {
	dir := filepath.Join(p.root, options.PVName)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, controller.ProvisioningFinished, fmt.Errorf("creating %s: %w", dir, err)
	}
	reclaim := v1.PersistentVolumeReclaimDelete
	if options.StorageClass.ReclaimPolicy != nil {
		reclaim = *options.StorageClass.ReclaimPolicy
	}
	pv := &v1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: options.PVName},
		Spec: v1.PersistentVolumeSpec{
			PersistentVolumeReclaimPolicy: reclaim,
			AccessModes:                   options.PVC.Spec.AccessModes,
			VolumeMode:                    options.PVC.Spec.VolumeMode,
			MountOptions:                  options.StorageClass.MountOptions,
			Capacity: v1.ResourceList{
				v1.ResourceStorage: options.PVC.Spec.Resources.Requests[v1.ResourceStorage],
			},
			PersistentVolumeSource: v1.PersistentVolumeSource{
				HostPath: &v1.HostPathVolumeSource{Path: dir},
			},
		},
	}
	klog.InfoS("provisioned", "pv", options.PVName, "claim", klog.KObj(options.PVC), "dir", dir)
	return pv, controller.ProvisioningFinished, nil
}

func (p *hostPathProvisioner) Delete(ctx context.Context, pv *v1.PersistentVolume) error {
	if pv.Spec.HostPath == nil {
		return fmt.Errorf("volume %s has no hostPath", pv.Name)
	}
	dir := filepath.Clean(pv.Spec.HostPath.Path)
	// Never remove anything outside our own root, whatever the volume says.
	if !strings.HasPrefix(dir, filepath.Clean(p.root)+string(filepath.Separator)) {
		return fmt.Errorf("volume %s points outside %s: %s", pv.Name, p.root, dir)
	}
	klog.InfoS("deleting", "pv", pv.Name, "dir", dir)
	return os.RemoveAll(dir)
}

// resizer completes expansions of claims bound to this provisioner's volumes:
// a hostPath directory has no size, so growing it is only bookkeeping.
type resizer struct {
	client      kubernetes.Interface
	provisioner string
	volumes     cache.Indexer
}

func (r *resizer) onClaim(obj interface{}) {
	pvc, ok := obj.(*v1.PersistentVolumeClaim)
	if !ok || pvc.Status.Phase != v1.ClaimBound || pvc.Spec.VolumeName == "" {
		return
	}
	want, ok := pvc.Spec.Resources.Requests[v1.ResourceStorage]
	if !ok {
		return
	}
	have := pvc.Status.Capacity[v1.ResourceStorage]
	if want.Cmp(have) <= 0 {
		return
	}
	item, exists, err := r.volumes.GetByKey(pvc.Spec.VolumeName)
	if err != nil || !exists {
		return
	}
	pv := item.(*v1.PersistentVolume)
	if pv.Annotations[provisionedByAnnotation] != r.provisioner {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if current := pv.Spec.Capacity[v1.ResourceStorage]; want.Cmp(current) > 0 {
		grown := pv.DeepCopy()
		grown.Spec.Capacity[v1.ResourceStorage] = want
		if _, err := r.client.CoreV1().PersistentVolumes().Update(ctx, grown, metav1.UpdateOptions{}); err != nil {
			klog.ErrorS(err, "growing volume; retried on the next resync", "pv", pv.Name)
			return
		}
	}
	claim := pvc.DeepCopy()
	if claim.Status.Capacity == nil {
		claim.Status.Capacity = v1.ResourceList{}
	}
	claim.Status.Capacity[v1.ResourceStorage] = want
	claim.Status.Conditions = nil
	claim.Status.AllocatedResourceStatuses = nil
	if _, err := r.client.CoreV1().PersistentVolumeClaims(claim.Namespace).UpdateStatus(ctx, claim, metav1.UpdateOptions{}); err != nil {
		klog.ErrorS(err, "recording grown claim; retried on the next resync", "claim", klog.KObj(pvc))
		return
	}
	klog.InfoS("expanded", "claim", klog.KObj(pvc), "pv", pv.Name, "size", want.String())
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the cluster")
	root := flag.String("root", "", "directory that holds one sub-directory per volume")
	name := flag.String("name", "electric-operator.dev/hostpath", "provisioner name the StorageClass refers to")
	klog.InitFlags(nil)
	flag.Parse()
	if *kubeconfig == "" || *root == "" {
		fmt.Fprintln(os.Stderr, "usage: hostpath-provisioner -kubeconfig FILE -root DIR [-name NAME]")
		os.Exit(2)
	}
	absRoot, err := filepath.Abs(*root)
	if err == nil {
		err = os.MkdirAll(absRoot, 0o777)
	}
	if err != nil {
		klog.ErrorS(err, "preparing root", "root", *root)
		os.Exit(1)
	}
	config, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		klog.ErrorS(err, "loading kubeconfig")
		os.Exit(1)
	}
	client := kubernetes.NewForConfigOrDie(config)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	factory := informers.NewSharedInformerFactory(client, 30*time.Second)
	claims := factory.Core().V1().PersistentVolumeClaims().Informer()
	volumes := factory.Core().V1().PersistentVolumes().Informer()
	classes := factory.Storage().V1().StorageClasses().Informer()
	resize := &resizer{client: client, provisioner: *name, volumes: volumes.GetIndexer()}
	if _, err := claims.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    resize.onClaim,
		UpdateFunc: func(_, obj interface{}) { resize.onClaim(obj) },
	}); err != nil {
		klog.ErrorS(err, "watching claims")
		os.Exit(1)
	}

	pc := controller.NewProvisionController(ctx, client, *name, &hostPathProvisioner{root: absRoot},
		// One harness runs one provisioner: nothing to elect.
		controller.LeaderElection(false),
		controller.ClaimsInformer(claims),
		controller.VolumesInformer(volumes),
		controller.ClassesInformer(classes),
	)
	factory.Start(ctx.Done())
	klog.InfoS("starting", "name", *name, "root", absRoot)
	pc.Run(ctx)
}
